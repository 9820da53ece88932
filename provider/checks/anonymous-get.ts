/**
 * One GET without credentials, as the platform makes it from the internet, of a document that
 * anyone may serve: the issuer's discovery document or its key set. Whatever the server does, it
 * ends within a deadline and reads at most {@link MAX_DISCOVERY_BYTES}; a redirect is
 * reported, never followed. Every outcome is a short reason for a person.
 * @module
 */

import type { IncomingMessage } from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";
import { USER_AGENT } from "../kube/client";

/** Larger answers are not a discovery document or a key set: the read stops there. */
export const MAX_DISCOVERY_BYTES = 1 << 20;

/** How long one GET may take in all, answer included, unless the caller says otherwise. */
export const ANONYMOUS_TIMEOUT_MS = 5000;

/** What one GET found: `json` is set when the answer is 200 and JSON. */
export interface AnonymousAnswer {
  status?: number;
  json?: unknown;
  /** `HTTP 200`, or why it failed: `the answer is not JSON`, `HTTP 301, a redirect to ...` */
  detail: string;
}

export interface AnonymousGetOptions {
  /** The API server's URL: the one origin the cluster's CA is trusted for. */
  apiServer: string;
  clusterCa?: string;
  /** The deadline of the whole exchange. @default {@link ANONYMOUS_TIMEOUT_MS} */
  timeoutMs?: number;
  accept?: string;
}

/**
 * One keep-alive pool for every anonymous request of the process: a connection's next check
 * (and the one of `create` right after `check`) finds its TLS connection open. No credential is
 * ever sent over it; sockets are pooled per host and trusted CA set.
 */
const anonymousAgent = new https.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * GETs `url` without credentials, with normal TLS verification: system CAs, plus the cluster's
 * CA when the URL is the API server itself. Never rejects.
 */
export function anonymousGetJson(url: URL, opts: AnonymousGetOptions): Promise<AnonymousAnswer> {
  const ca = [...tls.rootCertificates];
  if (opts.clusterCa && sameOrigin(url.href, opts.apiServer)) ca.push(opts.clusterCa);
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  if (opts.accept) headers.accept = opts.accept;
  const timeoutMs = opts.timeoutMs ?? ANONYMOUS_TIMEOUT_MS;
  return new Promise((resolve) => {
    // The socket's idle timeout would not end a server that sends a byte now and then: the
    // deadline covers the whole exchange.
    const deadline = setTimeout(() => {
      req.destroy();
      resolve({ detail: `no complete answer within ${timeoutMs} ms` });
    }, timeoutMs);
    const done = (answer: AnonymousAnswer) => {
      clearTimeout(deadline);
      resolve(answer);
    };
    const req = https.get(url, { ca, agent: anonymousAgent, headers }, (res) =>
      readAnswer(res, url, () => req.destroy(), done),
    );
    req.on("error", (err: NodeJS.ErrnoException) => done({ detail: describe(err, url) }));
  });
}

/** Reads the answer up to the bound, then judges it; `stop` ends the exchange early. */
function readAnswer(
  res: IncomingMessage,
  url: URL,
  stop: () => void,
  done: (answer: AnonymousAnswer) => void,
): void {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    stop();
    return done({ status, detail: redirectDetail(status, res.headers.location, url) });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_DISCOVERY_BYTES) {
      stop();
      return done({ status, detail: "the answer is larger than 1 MiB" });
    }
    chunks.push(c);
  });
  res.on("end", () => {
    if (status !== 200) return done({ status, detail: `HTTP ${status}` });
    try {
      const json: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      done({ status, json, detail: "HTTP 200" });
    } catch {
      done({ status, detail: "the answer is not JSON" });
    }
  });
  res.on("error", (err) => done({ status, detail: err.message }));
}

/**
 * A redirect, and where it points: scheme, host and path only (a query may carry anything),
 * cut short.
 */
function redirectDetail(status: number, location: string | undefined, from: URL): string {
  const notFollowed = "which is not followed (the platform does not follow redirects either)";
  let target = "nowhere";
  if (location) {
    try {
      const to = new URL(location, from);
      target = `${to.origin}${to.pathname}`;
    } catch {
      target = "a location that is not a URL";
    }
    if (target.length > 200) target = `${target.slice(0, 200)}...`;
  }
  return `HTTP ${status}, a redirect to ${target}, ${notFollowed}`;
}

/** True when both URLs have the same scheme, host and port. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function describe(err: NodeJS.ErrnoException, url: URL): string {
  switch (err.code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name ${url.hostname} does not resolve from here`;
    case "ECONNREFUSED":
      return "connection refused";
    default:
      return err.code?.includes("CERT") ? `TLS verification failed (${err.code})` : err.message;
  }
}
