import type { Response } from "express";
import { SoloError } from "../errors.js";

/**
 * Turns anything thrown into a coded error: SoloError as is, body-parser failures by type, a
 * path that does not decode (Express's router throws a `URIError` with status 400 for a
 * malformed percent-escape in a path parameter, such as `/admin/users/%ZZ/sessions`) and any
 * other error marked as a client error (status 400) as `invalid_request`, the rest as
 * `internal_error`.
 */
export function toSoloError(error: unknown): SoloError {
  if (error instanceof SoloError) return error;
  if (error instanceof URIError)
    return new SoloError("invalid_request", {}, "The path is not validly percent-encoded.");
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case "entity.too.large":
      return new SoloError("payload_too_large");
    case "entity.parse.failed":
      return new SoloError("invalid_request", {}, "The request body is not valid JSON.");
    case "encoding.unsupported":
    case "charset.unsupported":
    case "request.size.invalid":
    case "request.aborted":
      return new SoloError("invalid_request");
    default:
      return clientError(error) ? new SoloError("invalid_request") : new SoloError("internal_error");
  }
}

/** Sends `{ error, message, ...details }` with the code's status. */
export function sendError(res: Response, error: SoloError): void {
  if (error.details.retryAfter !== undefined) res.set("Retry-After", String(error.details.retryAfter));
  res.status(error.status).json(error.toBody());
}

/** An error that http-errors, body-parser or the router marked as a 400 (the request's fault). */
function clientError(error: unknown): boolean {
  const e = error as { status?: unknown; statusCode?: unknown } | null;
  return typeof e === "object" && e !== null && (e.status === 400 || e.statusCode === 400);
}
