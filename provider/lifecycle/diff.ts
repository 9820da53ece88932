/**
 * The provider's `diff`, which runs on every preview: pure, no I/O. It compares the new checked
 * inputs (with what `check` observed in the cluster) against the state of the last deployment.
 * The names in `replaces` are all a preview shows of a dynamic resource's diff, so each names
 * the reason for the replacement.
 * @module
 */

import { OBSERVED_KEY, type Observed } from "./checked";
import { UNKNOWN_VALUE } from "../inputs";
import { renewalTime, type ConnectionState } from "./state";

/** What `diff` returns to the engine. */
export interface ConnectionDiff {
  changes: boolean;
  /** Why the connection must be replaced, one name per reason (empty: update in place, or nothing). */
  replaces: string[];
  /** Why it changes in place. Not sent to the engine, which has no field for it; for tests and logs. */
  updates: string[];
  /** Always false: the replacement is created first and takes over the installation. */
  deleteBeforeReplace: false;
}

/** Inputs an update applies in place, compared by value. */
const IN_PLACE = [
  "agentImages",
  "clusterName",
  "context",
  "description",
  "enforcerOptions",
  "exposeIssuerDiscovery",
  "kubeconfig",
  // The agent's platform settings: installed again, and the agent registers there anew.
  "platform",
  "profiles",
  "registrationTimeout",
  "renewAfter",
] as const;

/**
 * Compares the new checked inputs with the stored state at time `now`.
 *
 * Replaced: a different `group`; a different cluster behind the kubeconfig (`issuer`,
 * `clusterUid`, or the agent namespace's UID, `remoteId`); a different resolved `connectivity`;
 * and for private connections a changed JWKS (`signingKeyIds`) or a passed renewal time
 * (`renewAt`). Public connections are not replaced for a rotated key: Enforce reads their
 * public JWKS itself. Everything else that changed is updated in place.
 */
export function diffConnection(
  olds: ConnectionState,
  news: Record<string, unknown>,
  now: Date,
): ConnectionDiff {
  const replaces: string[] = [];
  const updates: string[] = [];

  if (news.group === UNKNOWN_VALUE) updates.push("group");
  else if (news.group !== olds.group) replaces.push("group");

  const observed = news[OBSERVED_KEY];
  const private_ = olds.connectivity === "private";
  if (isObserved(observed)) {
    if (observed.issuer !== olds.issuer) replaces.push("issuer");
    if (olds.clusterUid && observed.clusterUid !== olds.clusterUid) replaces.push("clusterUid");
    if (olds.remoteId && observed.agentNamespaceUid !== olds.remoteId) replaces.push("remoteId");
    if (observed.connectivity !== olds.connectivity) replaces.push("connectivity");
    else if (private_ && !sameJson(observed.signingKeyIds, olds.uploadedKeyIds)) {
      replaces.push("signingKeyIds");
    }
  }

  if (private_ && olds.renewAt) {
    const renewAfter = news.renewAfterSeconds;
    const renewAt =
      typeof renewAfter === "number" &&
      renewAfter !== olds.renewAfterSeconds &&
      olds.identityCreatedAt
        ? renewalTime(olds.identityCreatedAt, renewAfter, olds.identityExpiresAt)
        : olds.renewAt;
    if (now.getTime() >= Date.parse(renewAt)) replaces.push("renewAt");
  }

  for (const key of IN_PLACE) {
    if (news[key] === UNKNOWN_VALUE || !sameJson(news[key], olds[key])) updates.push(key);
  }
  if (news.connectivity === UNKNOWN_VALUE || news.connectivity !== olds.requestedConnectivity) {
    updates.push("connectivity");
  }
  // A connection whose creation did not finish is completed by an update.
  if (!olds.clusterId) updates.push("clusterId");

  return {
    changes: replaces.length > 0 || updates.length > 0,
    replaces,
    updates,
    deleteBeforeReplace: false,
  };
}

function isObserved(value: unknown): value is Observed {
  return typeof value === "object" && value !== null && "issuer" in value;
}

/** Equality of plain JSON values, independent of object key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
