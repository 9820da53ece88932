/**
 * The issuer as the agent uses it: the {@link IssuerClient} of `local/platform`
 * over a dispatcher the agent owns, so stopping can cut in-flight requests
 * instead of waiting for them, and the emulator's CA can be trusted.
 */
import { rootCertificates } from "node:tls";
import { Agent } from "undici";
import {
  PlatformHttpError,
  PlatformResponseError,
  PlatformUnreachableError,
} from "../../provider/platform";
import { IssuerClient } from "../platform";

/** An issuer client and how to tear down its connections. */
export interface AgentIssuer {
  client: IssuerClient;
  /** Destroys every connection, aborting requests in flight. */
  destroy(): Promise<void>;
}

/**
 * Creates the issuer client. The client's own retries stay few and short: the
 * agent's loop retries after its own backoff, and a long retry inside one call
 * would only delay what the status file says.
 *
 * @throws TypeError when `issuerUrl` or `issuerCa` is not acceptable.
 */
export function createIssuer(issuerUrl: string, issuerCa: string | undefined): AgentIssuer {
  if (issuerCa !== undefined && !issuerCa.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TypeError("issuerCa must be PEM text holding at least one certificate");
  }
  const dispatcher = new Agent({
    connect: {
      timeout: 10_000,
      // Added to the system roots, not instead of them: a real issuer still verifies.
      ...(issuerCa !== undefined ? { ca: [...rootCertificates, issuerCa] } : {}),
    },
  });
  try {
    const client = new IssuerClient({
      issuerUrl,
      dispatcher,
      timeoutMs: 15_000,
      retry: { maxRetries: 2, baseDelayMs: 250, maxDelayMs: 2000, maxRetryAfterMs: 5000 },
    });
    return { client, destroy: () => dispatcher.destroy() };
  } catch (err) {
    void dispatcher.destroy();
    throw err;
  }
}

/** How an issuer call failed, for the agent's state and log. */
export interface IssuerFailure {
  /** `refused`: the platform said no and will say no again to the same inputs. */
  kind: "refused" | "error";
  statusCode: number | undefined;
  /** One line naming the call and the platform's reason; never a credential. */
  reason: string;
}

/**
 * Classifies a failure of `call` (`registration`, `heartbeat`). 4xx answers
 * other than 429 are refusals; 429, 5xx, unreachable and undecodable answers
 * are transient errors. The platform's message is redacted by the client.
 */
export function describeIssuerFailure(call: string, err: unknown): IssuerFailure {
  if (err instanceof PlatformHttpError) {
    const said = err.platformMessage ?? "no message";
    const refused = err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 429;
    return {
      kind: refused ? "refused" : "error",
      statusCode: err.statusCode,
      reason: `${call} ${refused ? "refused" : "failed"} (${err.statusCode}): ${said}`,
    };
  }
  if (err instanceof PlatformUnreachableError) {
    return {
      kind: "error",
      statusCode: undefined,
      reason:
        `${call} failed: ${err.reason === "tls" ? "the TLS certificate of" : "no answer from"} ` +
        `the issuer at ${err.origin} (${err.causeCode ?? err.reason})` +
        (err.reason === "tls"
          ? "; no CA the installation gives (ConfigMap gulfstream/config-platform, from enforce:caFile) trusts it"
          : ""),
    };
  }
  if (err instanceof PlatformResponseError) {
    return {
      kind: "error",
      statusCode: err.statusCode,
      reason: `${call} failed: the issuer's answer is not usable (${err.problem})`,
    };
  }
  return { kind: "error", statusCode: undefined, reason: `${call} failed: ${String(err)}` };
}
