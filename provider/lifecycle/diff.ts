/**
 * The provider's `diff`, which runs on every preview: pure, no I/O. It compares the new checked
 * inputs (with what `check` observed in the cluster) against the state of the last deployment.
 * The names in `replaces` are all a preview shows of a dynamic resource's diff, so each names
 * the reason for the replacement.
 * @module
 */

import { normalizedOf, observedOf } from "./checked";
import { UNKNOWN_VALUE } from "../inputs";
import { sameJson } from "../util/json";
import { IN_PLACE, REPLACING_INPUTS, storedKey } from "./properties";
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

/** How `diff` is asked. */
export interface DiffOptions {
  /**
   * The observations in `news` are not fresh: `pulumi refresh` diffs the refreshed state against
   * the inputs stored with the last apply, whose observations predate it (the agent's namespace
   * did not exist yet, say). They are then not compared.
   */
  stale?: boolean;
}

/**
 * Compares the new checked inputs with the stored state at time `now`.
 *
 * Replaced: a changed input that replaces (`group`, see `../inputs/properties.ts`); a different
 * cluster behind the kubeconfig (`issuer`, `clusterUid`, or the agent namespace's UID,
 * `remoteId`); a different resolved `connectivity`; and for private connections a changed JWKS
 * (`signingKeyIds`) or a passed renewal time (`renewAt`). Public connections are not replaced for
 * a rotated key: Enforce reads their public JWKS itself. Every other change, to an input or to
 * the settings `check` adds (`platform`), is updated in place, and so is a connection whose
 * last refresh found its objects changed outside Pulumi (`installationDrift`, not empty).
 */
export function diffConnection(
  olds: ConnectionState,
  news: Record<string, unknown>,
  now: Date,
  opts: DiffOptions = {},
): ConnectionDiff {
  const replaces: string[] = [];
  const updates: string[] = [];

  const stored = olds as unknown as Record<string, unknown>;
  // An input not known yet may turn out the same: an update, until it is known.
  for (const property of REPLACING_INPUTS) {
    if (news[storedKey(property)] === UNKNOWN_VALUE) updates.push(property);
    else if (!sameJson(news[storedKey(property)], stored[storedKey(property)])) {
      replaces.push(property);
    }
  }

  const observed = opts.stale ? undefined : observedOf(news);
  const private_ = olds.connectivity === "private";
  if (observed) {
    if (observed.issuer !== olds.issuer) replaces.push("issuer");
    if (olds.clusterUid && observed.clusterUid !== olds.clusterUid) replaces.push("clusterUid");
    if (olds.remoteId && observed.agentNamespaceUid !== olds.remoteId) replaces.push("remoteId");
    if (observed.connectivity !== olds.connectivity) replaces.push("connectivity");
    else if (private_ && !sameJson(observed.signingKeyIds, olds.uploadedKeyIds)) {
      replaces.push("signingKeyIds");
    }
  }

  const renewAt = dueRenewal(olds, news);
  if (renewAt && now.getTime() >= Date.parse(renewAt)) replaces.push("renewAt");

  for (const { property, stored: key } of IN_PLACE) {
    if (news[key] === UNKNOWN_VALUE || !sameJson(news[key], stored[key])) {
      updates.push(property);
    }
  }
  // What the last refresh found changed outside Pulumi: up applies it again.
  if (olds.installationDrift.length > 0) updates.push("installationDrift");
  // A connection whose creation did not finish is completed by an update.
  if (!olds.clusterId) updates.push("clusterId");

  return {
    changes: replaces.length > 0 || updates.length > 0,
    replaces,
    updates,
    deleteBeforeReplace: false,
  };
}

/**
 * When a private connection is renewed under the new checked inputs: the stored `renewAt`, or,
 * when `renewAfter` changed, the time it gives; undefined for a public connection or one
 * without a renewal time.
 */
export function dueRenewal(
  olds: ConnectionState,
  news: Record<string, unknown>,
): string | undefined {
  if (olds.connectivity !== "private" || !olds.renewAt) return undefined;
  const renewAfter = normalizedOf(news).renewAfterSeconds;
  return typeof renewAfter === "number" &&
    renewAfter !== olds.renewAfterSeconds &&
    olds.identityCreatedAt
    ? renewalTime(olds.identityCreatedAt, renewAfter, olds.identityExpiresAt)
    : olds.renewAt;
}
