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
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` with no credentials and
 * normal TLS verification, as the platform does from the internet: system CAs,
 * plus the cluster's CA when the issuer is the API server itself (a local
 * cluster's self-signed CA is what its own API server presents).
 */
export function probeAnonymousDiscovery(
  issuer: string,
  opts: { apiServer: string; clusterCa?: string; timeoutMs?: number },
): Promise<AnonymousProbe> {
  let url: URL;
  try {
    url = new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  } catch {
    return Promise.resolve({ reachable: false, detail: `the issuer "${issuer}" is not a URL` });
  }
  if (url.protocol !== "https:") {
    return Promise.resolve({
      reachable: false,
      detail: `the issuer "${issuer}" is not an https URL`,
    });
  }
  const ca = [...tls.rootCertificates];
  if (opts.clusterCa && sameOrigin(issuer, opts.apiServer)) ca.push(opts.clusterCa);
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { ca, agent: false, timeout: opts.timeoutMs ?? 5000, headers: { "user-agent": USER_AGENT } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status !== 200)
            return resolve({ reachable: false, status, detail: `HTTP ${status}` });
          try {
            const doc = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { issuer?: string };
            if (doc.issuer !== issuer) {
              return resolve({
                reachable: false,
                status,
                detail: `the document names issuer "${doc.issuer}", not "${issuer}"`,
              });
            }
            resolve({ reachable: true, status, detail: "HTTP 200" });
          } catch {
            resolve({ reachable: false, status, detail: "the answer is not JSON" });
          }
        });
        res.on("error", (err) => resolve({ reachable: false, detail: err.message }));
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ reachable: false, detail: describe(err) }),
    );
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

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the issuer's host name does not resolve from here";
    case "ECONNREFUSED":
      return "connection refused";
    case "ETIMEDOUT":
      return "timed out";
    default:
      return err.code?.includes("CERT") ? `TLS verification failed (${err.code})` : err.message;
  }
}
