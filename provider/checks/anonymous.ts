/**
 * Whether the service-account issuer is public: its discovery document, and the key set that
 * document names, fetched as the platform fetches them (see `./anonymous-get.ts` for the bounds
 * of each GET). A document or key set that anyone may serve is judged here, so every value
 * read from it is cut short before it reaches a message.
 * @module
 */

import { quoteShort } from "../util/json";
import { anonymousGetJson, type AnonymousGetOptions } from "./anonymous-get";

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

export interface AnonymousOptions extends Omit<AnonymousGetOptions, "accept"> {
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
    return { reachable: false, detail: `the issuer ${quoteShort(issuer)} is not a URL` };
  }
  if (url.protocol !== "https:") {
    return { reachable: false, detail: `the issuer ${quoteShort(issuer)} is not an https URL` };
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
      detail: `the document names issuer ${quoteShort(doc.issuer)}, not "${issuer}"`,
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

/** Longer is no URL a platform fetches keys from. */
const MAX_JWKS_URI_CHARS = 2048;

async function fetchAnonymousKeys(uri: unknown, opts: AnonymousOptions): Promise<AnonymousKeys> {
  if (typeof uri !== "string" || uri === "") {
    return { uri: "", detail: "the discovery document names no jwks_uri" };
  }
  // The uri is kept in state (observed.tokenSignature.jwksUri): a hostile one stays out.
  if (uri.length > MAX_JWKS_URI_CHARS) {
    return {
      uri: `${uri.slice(0, 100)}...`,
      detail: `its jwks_uri ${quoteShort(uri)} is longer than ${MAX_JWKS_URI_CHARS} characters`,
    };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { uri, detail: `its jwks_uri ${quoteShort(uri)} is not a URL` };
  }
  if (url.protocol !== "https:")
    return { uri, detail: `its jwks_uri ${quoteShort(uri)} is not an https URL` };
  // kube-apiserver answers 406 to `Accept: application/json` alone: it serves application/jwk-set+json.
  const { json, detail } = await anonymousGetJson(url, {
    ...opts,
    accept: "application/jwk-set+json, application/json;q=0.9",
  });
  return json === undefined ? { uri, detail } : { uri, jwks: json, detail };
}
