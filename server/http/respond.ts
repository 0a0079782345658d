import type { Response } from "express";
import type { SoloError } from "../errors/solo-error.js";

export { toSoloError } from "../errors/to-solo-error.js";

/** Sends `{ error, message, ...details }` with the code's status. */
export function sendError(res: Response, error: SoloError): void {
  if (error.details.retryAfter !== undefined) res.set("Retry-After", String(error.details.retryAfter));
  res.status(error.status).json(error.toBody());
}
