import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import type { TestResources } from "./resources.js";

/** One request a test receiver got. */
export interface Received {
  contentType: string | undefined;
  /** The token: the `logout_token` form field, or the whole body of a SET push. */
  token: string;
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  /** The status the receiver answered. */
  status: number;
}

/** A real HTTP receiver of session events on a free port. */
export interface TestReceiver {
  url: string;
  /** Every request, in arrival order (also the refused ones). */
  received: Received[];
  /** The ones answered 2xx. */
  accepted(): Received[];
  /** What the next request gets: a status, or `"hang"` (never answered). @default 200 */
  answer: number | "hang";
}

/**
 * Starts a receiver that records each POST and answers with `receiver.answer`. It is closed
 * (with any hanging request cut) by the test's resources.
 */
export async function startReceiver(resources: TestResources, path = "/events"): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    url: "",
    received: [],
    accepted: () => receiver.received.filter((r) => r.status >= 200 && r.status < 300),
    answer: 200,
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const contentType = req.headers["content-type"];
    const token =
      contentType === "application/x-www-form-urlencoded"
        ? (new URLSearchParams(body).get("logout_token") ?? "")
        : body;
    const answer = receiver.answer;
    let header: ProtectedHeaderParameters = {};
    let claims: JWTPayload = {};
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {}
    receiver.received.push({ contentType, token, header, claims, status: answer === "hang" ? 0 : answer });
    if (answer === "hang") return;
    res.writeHead(answer).end();
  });
  const { url } = await resources.listen(server);
  receiver.url = `${url}${path}`;
  return receiver;
}
