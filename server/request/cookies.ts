import type { IncomingMessage } from "node:http";
import type { Request, Response } from "express";
import type { ErrorCode } from "../../protocol/index.js";
import {
  cookieValue,
  HOST_PREFIX,
  parseAuthorization,
  type RequestToken,
  requestToken,
  TOKEN_SCHEMES,
  type TokenSource,
} from "./credentials.js";
import { isSecure } from "./origin.js";

/** Cookie settings (the `cookie` option of `createSoloServer`). */
export interface CookieOptions {
  /** @default "solo_session" (and `__Host-solo_session` when secure) */
  name?: string;
  /** `true`, `false`, or `"auto"`: secure when the request came over https. @default "auto" */
  secure?: boolean | "auto";
  /** @default "lax" */
  sameSite?: "lax" | "strict";
}

/**
 * The refusals after which the session cookie is useless and is cleared: a token that is not
 * valid or has expired, and a session that has ended. (Not `missing_token`, where there is no
 * cookie, nor a refused login, which says nothing about the cookie the browser holds.)
 */
export function refusesCookie(code: ErrorCode): boolean {
  switch (code) {
    case "invalid_token":
    case "token_expired":
    case "session_replaced":
    case "session_revoked":
    case "session_expired":
    case "session_idle":
      return true;
    default:
      return false;
  }
}

/**
 * Sets and clears the session cookie: `HttpOnly`, `SameSite` (Lax by default), `Path=/`, no
 * `Domain` (host-only), and under https `Secure` with the `__Host-` prefix, which a browser
 * accepts only from a secure origin, host-only and for `Path=/`, so a sibling subdomain cannot
 * plant or shadow it.
 *
 * @example
 * ```ts
 * const cookie = new SessionCookie({ name: "solo_session", secure: "auto", sameSite: "lax" }, false);
 * cookie.set(req, res, token, session.expiresAt, Date.now());
 * ```
 */
export class SessionCookie {
  readonly #options: Required<CookieOptions>;
  readonly #trustProxy: boolean;
  readonly #source: TokenSource;

  /** `source`: where a request's token is read (the `token` option); the cookie is this one. */
  constructor(
    options: Required<CookieOptions>,
    trustProxy: boolean,
    source: TokenSource = { schemes: TOKEN_SCHEMES, cookie: true, read: null },
  ) {
    this.#options = options;
    this.#trustProxy = trustProxy;
    this.#source = source;
  }

  set(req: Request, res: Response, token: string, expiresAt: number, now: number): void {
    const secure = this.#secure(req);
    res.cookie(this.#name(secure), token, {
      httpOnly: true,
      secure,
      sameSite: this.#options.sameSite,
      path: "/",
      maxAge: Math.max(0, expiresAt - now),
    });
  }

  /** Clears both the plain and the prefixed cookie (whichever the browser holds). */
  clear(req: Request, res: Response): void {
    const secure = this.#secure(req);
    res.clearCookie(this.#options.name, { httpOnly: true, secure, sameSite: this.#options.sameSite, path: "/" });
    if (secure) {
      res.clearCookie(HOST_PREFIX + this.#options.name, {
        httpOnly: true,
        secure: true,
        sameSite: this.#options.sameSite,
        path: "/",
      });
    }
  }

  /**
   * The request's token: from the `Authorization` header (`Bearer` by default, see the `token`
   * option), else (no `Authorization` header at all) this cookie (the `__Host-` one under
   * https), or the app's own reader. Throws `invalid_token` for a malformed credential.
   */
  token(req: IncomingMessage): string | null {
    return this.requestToken(req).token;
  }

  /** The request's token and whether it came from the cookie (see {@link token}). */
  requestToken(req: IncomingMessage): RequestToken {
    return requestToken(req, this.#options.name, this.#secure(req), this.#source);
  }

  /**
   * Whether the browser's cookie holds another token than the one this request is judged by
   * (its `Authorization` header). Then the cookie belongs to another session (another tab of
   * the same browser signed in since), or was not looked at (a malformed header), and must not
   * be cleared because of this request's token.
   */
  holdsOther(req: IncomingMessage): boolean {
    if (this.#source.read) return false;
    const auth = parseAuthorization(req.headers.authorization, this.#source.schemes);
    if (auth.kind === "absent") return false;
    const inCookie = cookieValue(req.headers.cookie, this.#name(this.#secure(req)));
    return inCookie !== null && (auth.kind === "malformed" || inCookie !== auth.credential);
  }

  /** Clears the cookie after a refusal that makes it useless ({@link refusesCookie}), unless it holds another session. */
  clearIfRefused(req: Request, res: Response, code: ErrorCode): void {
    if (refusesCookie(code) && !this.holdsOther(req)) this.clear(req, res);
  }

  #secure(req: IncomingMessage): boolean {
    const option = this.#options.secure;
    return option === "auto" ? isSecure(req, this.#trustProxy) : option;
  }

  #name(secure: boolean): string {
    return secure ? HOST_PREFIX + this.#options.name : this.#options.name;
  }
}
