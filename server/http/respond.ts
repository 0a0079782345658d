import type { Response } from "express";
import { SoloError } from "../errors.js";

/** Turns anything thrown into a coded error: SoloError as is, body-parser failures by type, the rest as internal_error. */
export function toSoloError(error: unknown): SoloError {
  if (error instanceof SoloError) return error;
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
      return new SoloError("internal_error");
  }
}

/** Sends `{ error, message, ...details }` with the code's status. */
export function sendError(res: Response, error: SoloError): void {
  if (error.details.retryAfter !== undefined) res.set("Retry-After", String(error.details.retryAfter));
  res.status(error.status).json(error.toBody());
}
