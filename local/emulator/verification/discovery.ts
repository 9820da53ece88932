/**
 * Anonymous OIDC discovery of a cluster's service-account issuer, the way the
 * hosted platform did it from the internet: `<iss>/.well-known/openid-configuration`,
 * then its `jwks_uri`. Key sets are cached briefly per issuer.
 */
import { rootCertificates } from "node:tls";
import type { JsonWebKeySet } from "../../../provider/platform";
import { fetchJson, FetchFailure, type JsonResponse } from "./fetch-json";
import type { Logger } from "../log";
import { VerificationError } from "./verification-error";

/** What a private cluster should do instead; appended to refusals that mean "not reachable". */
const PRIVATE_HINT = "the cluster is private: register it with a static-key identity (identityId)";

/** Keys fetched for one issuer. */
export interface IssuerKeys {
  issuer: string;
  jwksUri: string;
  jwks: JsonWebKeySet;
  /** Clock time (ms) of the fetch. */
  fetchedAt: number;
}

/** Keys as {@link IssuerDiscovery.keys} returns them. */
export interface LookedUpKeys extends IssuerKeys {
  /** Whether they came from the cache rather than from this call's fetch. */
  fromCache: boolean;
}

export interface IssuerDiscoveryOptions {
  /** Extra CAs trusted besides the system ones. */
  trustedCAs: string[];
  allowInsecureIssuers: boolean;
  timeoutMs: number;
  cacheMs: number;
  now: () => Date;
  logger: Logger;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fetches and caches issuers' key sets. */
export class IssuerDiscovery {
  private readonly cache = new Map<string, IssuerKeys>();
  private readonly ca: string[];

  constructor(private readonly options: IssuerDiscoveryOptions) {
    this.ca = [...rootCertificates, ...options.trustedCAs];
  }

  /** The issuer's keys, from cache when fresh unless `refresh` is set. */
  async keys(issuer: string, refresh = false): Promise<LookedUpKeys> {
    const now = this.options.now().getTime();
    const cached = this.cache.get(issuer);
    const age = cached ? now - cached.fetchedAt : Infinity;
    if (cached && !refresh && age >= 0 && age < this.options.cacheMs) {
      return { ...cached, fromCache: true };
    }

    const base = this.url(issuer, issuer, "issuer");
    const discoveryUrl = new URL(
      `${base.href.replace(/\/+$/, "")}/.well-known/openid-configuration`,
    );
    const doc = await this.get(discoveryUrl, issuer, `the cluster's issuer discovery at ${issuer}`);
    if (!isObject(doc) || typeof doc.jwks_uri !== "string") {
      throw new VerificationError(
        "ISSUER_BAD_RESPONSE",
        `the issuer discovery document at ${discoveryUrl.href} is not an OpenID configuration ` +
          "(no jwks_uri)",
      );
    }
    if (doc.issuer !== issuer) {
      throw new VerificationError(
        "ISSUER_MISMATCH",
        `the issuer discovery document at ${discoveryUrl.href} names issuer ` +
          `${JSON.stringify(doc.issuer)}, not the token's issuer ${JSON.stringify(issuer)}; ` +
          "the API server's --service-account-issuer must match the iss of its tokens",
      );
    }
    const jwksUrl = this.url(doc.jwks_uri, issuer, "jwks_uri");
    const jwks = await this.get(jwksUrl, issuer, `the cluster's key set at ${jwksUrl.href}`);
    if (!isObject(jwks) || !Array.isArray(jwks.keys) || !jwks.keys.every(isObject)) {
      throw new VerificationError(
        "ISSUER_BAD_RESPONSE",
        `the key set at ${jwksUrl.href} is not a JWK Set (no "keys" array)`,
      );
    }
    const fetched: IssuerKeys = {
      issuer,
      jwksUri: jwksUrl.href,
      jwks: { keys: jwks.keys as JsonWebKeySet["keys"] },
      fetchedAt: now,
    };
    this.cache.set(issuer, fetched);
    this.options.logger(`fetched ${jwks.keys.length} key(s) of issuer ${issuer}`);
    return { ...fetched, fromCache: false };
  }

  /** Parses and vets a URL the platform is about to fetch. */
  private url(text: string, issuer: string, what: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new VerificationError(
        what === "issuer" ? "TOKEN_CLAIM_INVALID" : "ISSUER_BAD_RESPONSE",
        `the ${what} ${JSON.stringify(text)} of issuer ${JSON.stringify(issuer)} is not a URL`,
      );
    }
    const insecureOk = this.options.allowInsecureIssuers && LOOPBACK.has(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && insecureOk)) {
      throw new VerificationError(
        "ISSUER_INSECURE",
        `the ${what} ${text} is not an https URL; the platform fetches issuer discovery ` +
          `only over https, so ${PRIVATE_HINT}`,
      );
    }
    return url;
  }

  /** GETs one document, turning every failure into a refusal a person can act on. */
  private async get(url: URL, issuer: string, what: string): Promise<unknown> {
    let response: JsonResponse;
    try {
      response = await fetchJson(url, { ca: this.ca, timeoutMs: this.options.timeoutMs });
    } catch (error) {
      throw this.failure(error, issuer, what);
    }
    const { status, body } = response;
    if (status >= 200 && status < 300) return body;
    if (status === 401 || status === 403) {
      throw new VerificationError(
        "ISSUER_PRIVATE",
        `${what} requires authentication (HTTP ${status}); ${PRIVATE_HINT}`,
      );
    }
    if (status === 404) {
      throw new VerificationError(
        "ISSUER_PRIVATE",
        `${what} is not served (HTTP 404): enable service account issuer discovery on the ` +
          `cluster, or ${PRIVATE_HINT}`,
      );
    }
    if (status === 429 || status >= 500) {
      throw new VerificationError(
        "ISSUER_UNAVAILABLE",
        `${what} failed (HTTP ${status}); try again later`,
      );
    }
    throw new VerificationError(
      "ISSUER_BAD_RESPONSE",
      `${what} answered HTTP ${status}${status < 400 ? " (redirects are not followed)" : ""}`,
    );
  }

  private failure(error: unknown, issuer: string, what: string): VerificationError {
    if (!(error instanceof FetchFailure)) {
      return new VerificationError("ISSUER_UNREACHABLE", `${what} could not be fetched`, {
        cause: error,
      });
    }
    switch (error.kind) {
      case "timeout":
        return new VerificationError(
          "ISSUER_UNAVAILABLE",
          `${what} did not answer within ${this.options.timeoutMs} ms; try again later, ` +
            `or if the issuer is not reachable from outside the cluster, ${PRIVATE_HINT}`,
          { cause: error },
        );
      case "tls":
        return new VerificationError(
          "ISSUER_UNTRUSTED",
          `the TLS certificate of ${issuer} is not trusted (${error.detail}); the platform trusts ` +
            "public CAs and the CAs it was started with (--trust-ca): add the cluster's CA, " +
            `or ${PRIVATE_HINT}`,
          { cause: error },
        );
      case "network":
        return new VerificationError(
          "ISSUER_UNREACHABLE",
          `${what} cannot be reached (${error.detail}); the platform fetches it anonymously ` +
            `from outside the cluster, so if it is not reachable from there, ${PRIVATE_HINT}`,
          { cause: error },
        );
      default:
        return new VerificationError(
          "ISSUER_BAD_RESPONSE",
          `${what} is not a usable JSON document (${error.detail})`,
          { cause: error },
        );
    }
  }
}
