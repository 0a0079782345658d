import { type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";

/** What a raw request got back. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Options of {@link rawRequest}. */
export interface RawInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * One HTTP request through node:http, which (unlike fetch) sends exactly the headers it is
 * given: a forged Host, an Origin of any value, no Origin at all.
 */
export function rawRequest(url: string, path: string, init: RawInit = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: init.method ?? "GET", headers: init.headers });
    req.on("response", (res) => answer(res).then(resolve, reject));
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A raw Engine.IO request: `query` comes after `EIO=4&` (`transport=polling&sid=...`). */
export function engineRequest(url: string, query: string, init: RawInit = {}): Promise<RawAnswer> {
  return rawRequest(url, `/socket.io/?EIO=4&${query}`, init);
}

/**
 * A raw WebSocket upgrade of an Engine.IO connection (`query` after `transport=websocket`):
 * status 101 when the server accepts it (the socket is closed at once), else its refusal.
 */
export function engineUpgrade(url: string, query = "", headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=websocket${query}`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.from("0123456789abcdef").toString("base64"),
        ...headers,
      },
    });
    req.on("response", (res) => answer(res).then(resolve, reject));
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

function answer(res: IncomingMessage): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      body += chunk;
    });
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on("error", reject);
  });
}
