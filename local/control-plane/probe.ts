import * as http from "node:http";
import * as https from "node:https";

export interface TlsMaterial {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** A GET with a short timeout; resolves with status and body, rejects on connection errors. */
export function get(
  url: string,
  tls: TlsMaterial = {},
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return send("GET", url, tls, undefined, timeoutMs);
}

/** A POST of `body` as JSON, with the same bounds as {@link get}. */
export function post(
  url: string,
  tls: TlsMaterial,
  body: unknown,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return send("POST", url, tls, JSON.stringify(body), timeoutMs);
}

function send(
  method: string,
  url: string,
  tls: TlsMaterial,
  body: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    const req = mod.request(
      u,
      { ...tls, method, headers, timeout: timeoutMs, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${u.origin}${u.pathname} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}
