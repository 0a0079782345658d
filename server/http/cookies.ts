import type { Request, Response } from "express";
import type { CookieOptions } from "../options.js";
import { HOST_PREFIX } from "./credentials.js";
import { isSecure } from "./origin.js";

/** Sets and clears the session cookie: HttpOnly, SameSite, Path=/, and Secure with the `__Host-` prefix under https. */
export class SessionCookie {
  readonly #options: Required<CookieOptions>;
  readonly #trustProxy: boolean;

  constructor(options: Required<CookieOptions>, trustProxy: boolean) {
    this.#options = options;
    this.#trustProxy = trustProxy;
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

  #secure(req: Request): boolean {
    const option = this.#options.secure;
    return option === "auto" ? isSecure(req, this.#trustProxy) : option;
  }

  #name(secure: boolean): string {
    return secure ? HOST_PREFIX + this.#options.name : this.#options.name;
  }
}
