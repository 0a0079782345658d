import { Agent, request } from "node:http";

/** A Chrome User-Agent, so that our server describes the device as a browser would get it. */
export const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** A keep-alive agent: requests reuse connections, as a browser's would. */
export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** A JSON POST with `node:http` (lighter than fetch, so it adds less to what it measures). */
export function postJson(agent: Agent, url: string, body: unknown): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify(body);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          "user-agent": USER_AGENT,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Logs in to our server as `username` and returns the session token. */
export async function loginToken(agent: Agent, baseUrl: string, username: string): Promise<string> {
  let res: { status: number; body: string };
  try {
    res = await postJson(agent, `${baseUrl}/auth/login`, { username });
  } catch (error) {
    // A kept-alive connection the server closed (its 5 s keep-alive timeout) just as it was reused: retry once.
    const code = (error as { code?: unknown }).code;
    if (code !== "ECONNRESET") throw error;
    res = await postJson(agent, `${baseUrl}/auth/login`, { username });
  }
  if (res.status !== 200) throw new Error(`login ${res.status}: ${res.body.slice(0, 200)}`);
  return (JSON.parse(res.body) as { token: string }).token;
}
