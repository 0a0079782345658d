import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import { SoloError } from "./errors.js";
import type { SessionCookie } from "./http/cookies.js";
import { type OriginPolicy, originAllowed } from "./http/origin.js";
import { toSoloError } from "./http/respond.js";
import { logId } from "./logging.js";
import type { ConnectErrorData } from "./protocol.js";
import { clientAddress, type HandshakeLimiter } from "./ratelimit.js";
import type { Checked, SessionService } from "./sessions.js";

/** What the namespace handshake needs. */
export interface HandshakeDeps {
  service: SessionService;
  /** Reads a handshake's token from its headers (Bearer, else the session cookie) when `auth.token` is absent. */
  cookie: Pick<SessionCookie, "token">;
  origins: OriginPolicy;
  /** Handshakes per address and per session. */
  limiter: HandshakeLimiter;
  logger: Logger;
}

// biome-ignore lint/suspicious/noExplicitAny: any namespace's event maps; the handshake reads only the request and `auth`.
type AnySocket = Socket<any, any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: as above.
type AnyNamespace = Namespace<any, any, any, any>;

/**
 * The one handshake of every solo-session namespace (`/session`, `/admin`, and any later
 * one), so none can skip a check: the origin, the per-address handshake limit (counted on
 * every namespace connect; only the first one of a connection whose engine handshake was
 * already counted is free), the token (`auth.token`, else the cookie or a Bearer header;
 * a non-string `auth.token` is `invalid_token`), the session in the store, and the
 * per-session limit. A refusal reaches the client as `connect_error` with
 * `err.message` = the code and `err.data` = {@link ConnectErrorData}.
 *
 * @example
 * ```ts
 * const handshake = new Handshake({ service, cookie, origins, limiter, logger });
 * handshake.guard(io.of("/session"), (socket, { claims, session }) => {
 *   socket.data = { userId: session.userId, sessionId: session.id };
 * });
 * ```
 */
export class Handshake {
  readonly #deps: HandshakeDeps;
  /** Engine handshakes already counted against their address and not yet used by a namespace connect. */
  readonly #prepaid = new WeakSet<IncomingMessage>();

  constructor(deps: HandshakeDeps) {
    this.#deps = deps;
  }

  /**
   * The engine handshake of `req` was counted against its address: the first namespace
   * connect over that connection does not count again.
   */
  prepaid(req: IncomingMessage): void {
    this.#prepaid.add(req);
  }

  /**
   * Puts the handshake in front of a namespace: `admit` runs for an authenticated session (it
   * may refuse by throwing a {@link SoloError}, e.g. `forbidden`, and sets `socket.data`).
   */
  guard<S extends AnySocket>(nsp: AnyNamespace, admit: (socket: S, checked: Checked) => void): void {
    nsp.use((socket, next) => {
      this.#check(socket).then(
        (checked) => {
          try {
            admit(socket as S, checked);
            next();
          } catch (error) {
            next(handshakeError(error));
          }
        },
        (error: unknown) => next(handshakeError(error)),
      );
    });
  }

  /**
   * Refuses every handshake of a namespace with `forbidden` (the default namespace `/`),
   * after the origin check and counting it against the address like any other.
   */
  refuseAll(nsp: AnyNamespace): void {
    nsp.use((socket, next) => {
      this.#admitAddress(socket).then(
        () => next(handshakeError(new SoloError("forbidden"))),
        (error: unknown) => next(handshakeError(error)),
      );
    });
  }

  /** The origin, then the per-address limit (the first connect of a counted engine handshake is free). */
  async #admitAddress(socket: AnySocket): Promise<void> {
    const { origins, limiter } = this.#deps;
    const req = socket.request;
    if (!originAllowed(req, origins)) throw new SoloError("origin_not_allowed");
    if (this.#prepaid.delete(req)) return;
    const refused = await limiter.byAddress(clientAddress(req, origins.trustProxy));
    if (refused) throw refused;
  }

  async #check(socket: AnySocket): Promise<Checked> {
    const { service, cookie, limiter, logger } = this.#deps;
    const req = socket.request;
    await this.#admitAddress(socket);
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    if (auth?.token !== undefined && typeof auth.token !== "string") throw new SoloError("invalid_token");
    const token = typeof auth?.token === "string" ? auth.token : cookie.token(req);
    const checked = await service.check(token);
    // A bounded rate of new sockets per session, whatever the namespace: a flood is refused.
    const flood = await limiter.bySession(checked.session.id);
    if (flood) {
      logger.warn({ session: logId(checked.session.id), nsp: socket.nsp.name }, "session handshake flood refused");
      throw flood;
    }
    return checked;
  }
}

/**
 * A handshake refusal as Socket.IO sends it: `err.message` is the code, `err.data` the details.
 *
 * @example
 * ```ts
 * io.of("/").use((_socket, next) => next(handshakeError(new SoloError("forbidden"))));
 * ```
 */
export function handshakeError(error: unknown): Error & { data: ConnectErrorData } {
  const solo = toSoloError(error);
  const err = new Error(solo.code) as Error & { data: ConnectErrorData };
  err.data = { code: solo.code, message: solo.message, ...solo.details };
  return err;
}
