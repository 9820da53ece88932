import * as https from "node:https";
import * as tls from "node:tls";
import { USER_AGENT } from "../kube/client";

/** What an anonymous GET of the issuer's discovery document found. */
export interface AnonymousProbe {
  reachable: boolean;
  /** HTTP status when the server answered. */
  status?: number;
  /** Why it failed, for a person: `HTTP 403`, `connection refused`, ... */
  detail: string;
  /** The document's `jwks_uri` fetched the same way; only when asked for and reachable. */
  keys?: AnonymousKeys;
}

/** What an anonymous GET of the discovery document's `jwks_uri` found. */
export interface AnonymousKeys {
  uri: string;
  /** The parsed answer (not validated yet) when the server answered 200 with JSON. */
  jwks?: unknown;
  /** `HTTP 200`, or why it failed. */
  detail: string;
}

export interface AnonymousOptions {
  apiServer: string;
  clusterCa?: string;
  timeoutMs?: number;
  /** Fetch the document's `jwks_uri` too (one more request), as the platform does for a public issuer. */
  keys?: boolean;
  /**
   * Where the document's `jwks_uri` is expected to point (what the last check found). With
   * `keys`, that URL is fetched at the same time as the document, which saves a round trip; when
   * the document names another, the keys are fetched again from there.
   */
  expectedJwksUri?: string;
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` with no credentials and
 * normal TLS verification, as the platform does from the internet: system CAs,
 * plus the cluster's CA when the URL is the API server itself (a local
 * cluster's self-signed CA is what its own API server presents). With `keys`,
 * then fetches the document's `jwks_uri` the same way.
 */
export async function probeAnonymousDiscovery(
  issuer: string,
  opts: AnonymousOptions,
): Promise<AnonymousProbe> {
  let url: URL;
  try {
    url = new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  } catch {
    return { reachable: false, detail: `the issuer "${issuer}" is not a URL` };
  }
  if (url.protocol !== "https:") {
    return { reachable: false, detail: `the issuer "${issuer}" is not an https URL` };
  }
  const early =
    opts.keys && opts.expectedJwksUri ? fetchAnonymousKeys(opts.expectedJwksUri, opts) : undefined;
  try {
    return await probeDocument(url, issuer, opts, early);
  } finally {
    // An early fetch the document did not call for still ends before the probe reports.
    await early;
  }
}

/** The discovery document at `url`, then (with `keys`) its `jwks_uri`, unless `early` has it. */
async function probeDocument(
  url: URL,
  issuer: string,
  opts: AnonymousOptions,
  early: Promise<AnonymousKeys> | undefined,
): Promise<AnonymousProbe> {
  const { status, json, detail } = await anonymousGetJson(url, opts);
  if (json === undefined) return { reachable: false, status, detail };
  const doc = (typeof json === "object" && json !== null ? json : {}) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  if (doc.issuer !== issuer) {
    return {
      reachable: false,
      status,
      detail: `the document names issuer ${JSON.stringify(doc.issuer)}, not "${issuer}"`,
    };
  }
  const probe: AnonymousProbe = { reachable: true, status, detail };
  if (opts.keys) {
    probe.keys =
      early && doc.jwks_uri === opts.expectedJwksUri
        ? await early
        : await fetchAnonymousKeys(doc.jwks_uri, opts);
  }
  return probe;
}

async function fetchAnonymousKeys(uri: unknown, opts: AnonymousOptions): Promise<AnonymousKeys> {
  if (typeof uri !== "string" || uri === "") {
    return { uri: "", detail: "the discovery document names no jwks_uri" };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { uri, detail: `its jwks_uri "${uri}" is not a URL` };
  }
  if (url.protocol !== "https:")
    return { uri, detail: `its jwks_uri "${uri}" is not an https URL` };
  // kube-apiserver answers 406 to `Accept: application/json` alone: it serves application/jwk-set+json.
  const { json, detail } = await anonymousGetJson(url, {
    ...opts,
    accept: "application/jwk-set+json, application/json;q=0.9",
  });
  return json === undefined ? { uri, detail } : { uri, jwks: json, detail };
}

/**
 * One keep-alive pool for every anonymous request of the process: a connection's next check
 * (and the one of `create` right after `check`) finds its TLS connection open. No credential is
 * ever sent over it; sockets are pooled per host and trusted CA set.
 */
const anonymousAgent = new https.Agent({ keepAlive: true, maxSockets: 4 });

/** Larger answers are not a discovery document or a key set. */
const MAX_BODY_BYTES = 1 << 20;

/** One GET without credentials; `json` is set when the answer is 200 and JSON. */
function anonymousGetJson(
  url: URL,
  opts: AnonymousOptions & { accept?: string },
): Promise<{ status?: number; json?: unknown; detail: string }> {
  const ca = [...tls.rootCertificates];
  if (opts.clusterCa && sameOrigin(url.href, opts.apiServer)) ca.push(opts.clusterCa);
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  if (opts.accept) headers.accept = opts.accept;
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { ca, agent: anonymousAgent, timeout: opts.timeoutMs ?? 5000, headers },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy();
            return resolve({ status, detail: "the answer is larger than 1 MiB" });
          }
          chunks.push(c);
        });
        res.on("end", () => {
          if (status !== 200) return resolve({ status, detail: `HTTP ${status}` });
          try {
            const json: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            resolve({ status, json, detail: "HTTP 200" });
          } catch {
            resolve({ status, detail: "the answer is not JSON" });
          }
        });
        res.on("error", (err) => resolve({ status, detail: err.message }));
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ detail: describe(err, url) }));
  });
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
    case "ETIMEDOUT":
      return "timed out";
    default:
      return err.code?.includes("CERT") ? `TLS verification failed (${err.code})` : err.message;
  }
}
