import { createHash, timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { SoloError } from "../errors.js";
import type { IntrospectionResponse } from "../protocol.js";
import type { SessionService } from "../sessions.js";
import { TOKEN_TYPE } from "../tokens.js";
import { parseAuthorization } from "./credentials.js";
import { MAX_BODY } from "./router.js";

/** What introspection needs. */
export interface IntrospectDeps {
  service: SessionService;
  /** The shared secret of other services (`SOLO_INTROSPECT_SECRET`), or null to accept admins only. */
  secret: string | null;
}

/**
 * `POST /introspect` (RFC 7662): tells another service whether a session token is live.
 *
 * The caller authenticates with `Authorization: Bearer <shared secret>` or
 * `Authorization: Bearer <session token of an admin>`; otherwise 401 (`missing_token` without
 * the header, `invalid_token` for a malformed one or a bad token, ...) or 403 `forbidden`. The body is `token=<token>` as
 * `application/x-www-form-urlencoded` (or `{"token": "..."}` as JSON). The answer is
 * `{"active": false}` for anything not live (bad, expired, replaced, revoked, idle), and the
 * token's claims with `"active": true` for a live session. Introspection has no side effects:
 * it is not activity, and it does not mark a revocation notice delivered.
 *
 * @example
 * ```ts
 * createAuthRouter({ ...deps, extra: [createIntrospectRouter({ service, secret: process.env.SOLO_INTROSPECT_SECRET ?? null })] });
 * ```
 */
export function createIntrospectRouter(deps: IntrospectDeps): Router {
  const router = express.Router();
  const secretDigest = deps.secret === null ? null : digest(deps.secret);
  const form = express.urlencoded({ extended: false, limit: MAX_BODY, parameterLimit: 10 });
  const json = express.json({ limit: MAX_BODY, strict: true });

  async function authenticateCaller(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const auth = parseAuthorization(req.headers.authorization);
    if (auth.kind === "absent") throw new SoloError("missing_token");
    if (auth.kind === "malformed") throw new SoloError("invalid_token");
    const credential = auth.credential;
    if (secretDigest !== null && timingSafeEqual(digest(credential), secretDigest)) {
      next();
      return;
    }
    const { claims } = await deps.service.check(credential);
    if (!claims.roles.includes("admin")) throw new SoloError("forbidden");
    next();
  }

  router.post("/introspect", authenticateCaller, form, json, async (req, res) => {
    const body: unknown = req.body;
    const token = typeof body === "object" && body !== null ? (body as Record<string, unknown>).token : undefined;
    if (typeof token !== "string" || token === "") {
      throw new SoloError(
        "invalid_request",
        {},
        'Send the token as "token" in an application/x-www-form-urlencoded (or JSON) body.',
      );
    }
    const live = await deps.service.inspect(token);
    let answer: IntrospectionResponse = { active: false };
    if (live) {
      const c = live.claims;
      answer = {
        active: true,
        sub: c.sub,
        sid: c.sid,
        jti: c.jti,
        exp: c.exp,
        iat: c.iat,
        iss: c.iss,
        aud: c.aud,
        token_type: TOKEN_TYPE,
        roles: [...c.roles],
      };
    }
    res.json(answer);
  });

  return router;
}

/** A fixed-length digest, so secrets of any length compare in constant time. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
