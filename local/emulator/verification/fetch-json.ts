/**
 * Anonymous GET of a JSON document, as the hosted platform fetches a cluster
 * issuer's discovery and keys from the internet: no client certificate, no
 * Authorization header, no redirects, a deadline and a size limit.
 */
import http from "node:http";
import https from "node:https";

/** Why a fetch produced no HTTP response or no usable body. */
export type FetchFailureKind = "timeout" | "tls" | "network" | "too-large" | "not-json";

/** A fetch that did not yield a JSON document. `detail` is an error code or a short reason. */
export class FetchFailure extends Error {
  override readonly name = "FetchFailure";
  constructor(
    readonly kind: FetchFailureKind,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${detail}`, options);
  }
}

/** A response: its status and, for 2xx, the parsed JSON body. */
export interface JsonResponse {
  status: number;
  body: unknown;
}

export interface FetchJsonOptions {
  /** CA certificates (PEM) to trust for https; replaces Node's default set, so include the system roots. */
  ca: string[];
  timeoutMs: number;
  maxBytes?: number;
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function classify(error: NodeJS.ErrnoException): FetchFailure {
  const code = error.code ?? error.message;
  const tls = TLS_CODES.has(code) || /^ERR_(TLS|SSL)_|^ERR_SSL/.test(code) || /^EPROTO$/.test(code);
  return new FetchFailure(tls ? "tls" : "network", code, { cause: error });
}

/** GETs `url` and parses a 2xx body as JSON; other statuses come back with `body` undefined. */
export function fetchJson(url: URL, options: FetchJsonOptions): Promise<JsonResponse> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const settle = (fn: () => void): void => {
      clearTimeout(timer);
      fn();
    };
    const onResponse = (res: http.IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        settle(() => resolve({ status, body: undefined }));
        return;
      }
      res.on("error", (error: Error) => settle(() => reject(classify(error))));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(new FetchFailure("too-large", `more than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch (cause) {
          settle(() => reject(new FetchFailure("not-json", "the body is not JSON", { cause })));
          return;
        }
        settle(() => resolve({ status, body }));
      });
    };
    const requestOptions = {
      method: "GET",
      // Kubernetes serves its JWKS only as application/jwk-set+json (406 otherwise).
      headers: { accept: "application/json, application/jwk-set+json;q=0.9" },
      agent: false as const,
    };
    const req =
      url.protocol === "https:"
        ? https.request(url, { ...requestOptions, ca: options.ca }, onResponse)
        : http.request(url, requestOptions, onResponse);
    const timer = setTimeout(() => {
      req.destroy(new FetchFailure("timeout", `no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on("error", (error: Error) => {
      settle(() =>
        reject(error instanceof FetchFailure ? error : classify(error as NodeJS.ErrnoException)),
      );
    });
    req.end();
  });
}
