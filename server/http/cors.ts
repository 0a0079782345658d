import type { NextFunction, Request, RequestHandler, Response } from "express";
import { SoloError } from "../errors/solo-error.js";
import { originListed } from "../request/origin.js";
import { sendError } from "./respond.js";

/** Options of {@link createCors} (and of `solo.cors()`). */
export interface CorsOptions {
  /** Methods a cross-origin frontend may use. @default ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] */
  methods?: readonly string[];
  /** Request headers it may send. @default ["Content-Type", "Authorization"] */
  headers?: readonly string[];
  /** Response headers its scripts may read. @default ["Retry-After"] */
  exposeHeaders?: readonly string[];
  /** How long, in seconds, a browser may cache a preflight answer. @default 600 */
  maxAge?: number;
}

const DEFAULTS = {
  methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  headers: ["Content-Type", "Authorization"],
  exposeHeaders: ["Retry-After"],
  maxAge: 600,
} as const satisfies Required<CorsOptions>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * CORS for the origins in the allowlist (a frontend served from another origin than the API).
 * Only listed origins get `Access-Control-Allow-Origin` (never `*`, since credentials are
 * allowed), every answer says `Vary: Origin`, and a preflight from an origin that is not listed
 * gets 403 `origin_not_allowed`. Same-origin requests need no CORS and pass untouched.
 *
 * CORS only decides what a browser lets a page read; the CSRF check (Origin on state-changing
 * cookie requests) is what refuses a forged request, and it runs in the routes themselves.
 *
 * @example
 * ```ts
 * app.use("/api", createCors(["https://app.example.com"]), solo.requireSession(), api);
 * ```
 */
export function createCors(allowedOrigins: readonly string[], options: CorsOptions = {}): RequestHandler {
  const methods = list("methods", options.methods ?? DEFAULTS.methods).map((m) => m.toUpperCase());
  const headers = list("headers", options.headers ?? DEFAULTS.headers);
  const expose = list("exposeHeaders", options.exposeHeaders ?? DEFAULTS.exposeHeaders);
  const maxAge = options.maxAge ?? DEFAULTS.maxAge;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new TypeError("cors: options.maxAge must be an integer >= 0");
  const allowMethods = methods.join(", ");
  const allowHeaders = headers.join(", ");
  const exposeHeaders = expose.join(", ");

  return function soloCors(req: Request, res: Response, next: NextFunction): void {
    res.vary("Origin");
    const origin = originListed(req, allowedOrigins);
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (origin === null) {
      if (preflight && req.headers.origin !== undefined) {
        sendError(res, new SoloError("origin_not_allowed"));
        return;
      }
      next();
      return;
    }
    res.set("Access-Control-Allow-Origin", origin);
    res.set("Access-Control-Allow-Credentials", "true");
    if (!preflight) {
      if (exposeHeaders) res.set("Access-Control-Expose-Headers", exposeHeaders);
      next();
      return;
    }
    res.vary("Access-Control-Request-Method");
    res.vary("Access-Control-Request-Headers");
    res.set("Access-Control-Allow-Methods", allowMethods);
    res.set("Access-Control-Allow-Headers", allowHeaders);
    res.set("Access-Control-Max-Age", String(maxAge));
    res.status(204).end();
  };
}

function list(name: string, value: readonly string[]): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && TOKEN.test(v))) {
    throw new TypeError(`cors: options.${name} must be an array of header or method names`);
  }
  return [...value];
}
