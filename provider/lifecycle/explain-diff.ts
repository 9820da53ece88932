/**
 * What a preview says about a changed connection, in one sentence: why `diff` replaces or
 * updates it, what `up` will then do, and what it will not. The CLI cannot show a dynamic
 * resource's reasons itself (a replacement shows the old state's bookkeeping as removed), so the
 * provider logs this sentence with the resource. Pure; no value that may hold a credential
 * (the kubeconfig, its context, an invite) is ever part of it.
 * @module
 */

import { UNKNOWN_VALUE, inputSpec, isInputProperty } from "../inputs";
import { containsUnknown } from "../inputs/values";
import { isRecord, sameJson } from "../util/json";
import { driftedObject, listDrift, restoreHow } from "../install/drift";
import { observedOf, type Observed } from "./checked";
import { dueRenewal, type ConnectionDiff, type DiffOptions } from "./diff";
import { OUTPUTS, storedKey } from "./properties";
import type { ConnectionState } from "./state";

/**
 * Properties whose value is never shown, only that it changed: a kubeconfig holds credentials,
 * and its context is part of it.
 */
const NOT_SHOWN: readonly string[] = ["kubeconfig", "context"];

/** Updates that are not a setting's change, each with a clause of its own. */
const NOT_SETTINGS: readonly string[] = ["clusterId", "installationDrift"];

/** How an absent value reads. */
const UNSET = "(unset)";

/**
 * The sentence for a connection whose `diff` gave `diff`, from its stored state `olds` and the
 * new checked inputs `news`; undefined when nothing changes.
 */
export function explainDiff(
  olds: ConnectionState,
  news: Record<string, unknown>,
  diff: Pick<ConnectionDiff, "replaces" | "updates">,
  opts: DiffOptions = {},
): string | undefined {
  const { replaces, updates } = diff;
  if (replaces.length === 0 && updates.length === 0) return undefined;
  const observed = opts.stale ? undefined : observedOf(news);
  // Not observed because the cluster could not be checked (not because the observations are
  // stale, as in a refresh).
  const unobserved = observedOf(news) === undefined;
  const settingUpdates = updates.filter((p) => !NOT_SETTINGS.includes(p));
  const unknown = settingUpdates.filter((p) => containsUnknown(news[storedOf(p)], UNKNOWN_VALUE));
  const changed = settingUpdates.filter((p) => !unknown.includes(p));
  const drift = updates.includes("installationDrift") ? olds.installationDrift : [];

  const parts: string[] = [];
  if (replaces.length > 0) {
    parts.push(...replaceReasons(olds, news, observed, replaces));
    const settings = changed.map((p) =>
      settingChange(olds, news, p, { why: false, sameCluster: false }),
    );
    if (settings.length > 0) parts.push(`also ${settings.join(", ")}`);
    if (drift.length > 0) {
      parts.push(`also restores what changed outside Pulumi: ${listDrift(drift)}`);
    }
  } else {
    const sameCluster = observed !== undefined;
    parts.push(...changed.map((p) => settingChange(olds, news, p, { why: true, sameCluster })));
    if (drift.length > 0) parts.push(...driftClauses(olds, drift));
    if (updates.includes("clusterId")) {
      parts.push(
        "the connection's creation did not finish: up completes it and the agent registers",
      );
    }
  }
  parts.push(...unknownClauses(olds, unknown, unobserved));
  const head = replaces.length > 0 ? "replace" : "update in place";
  const tail =
    replaces.length > 0
      ? replaceOutcome(olds, news, observed, replaces)
      : changed.length > 0
        ? ["the agent is not reinstalled"]
        : [];
  return `${head}: ${[...parts, ...tail].join("; ")}.`;
}

/**
 * What a refresh found changed outside Pulumi in the agent's objects (names and fields, never a
 * Secret's value), and how up restores it.
 */
function driftClauses(olds: ConnectionState, drift: readonly string[]): string[] {
  const objects = new Set(drift.map(driftedObject)).size;
  return [
    `${objects} of the agent's objects changed outside Pulumi: ${listDrift(drift)}`,
    `up restores them (${restoreHow(olds, drift)})`,
  ];
}

/** One clause per reason for the replacement. */
function replaceReasons(
  olds: ConnectionState,
  news: Record<string, unknown>,
  observed: Observed | undefined,
  replaces: readonly string[],
): string[] {
  const clauses: string[] = [];
  for (const reason of replaces) {
    switch (reason) {
      case "signingKeyIds":
        clauses.push(
          `the cluster's service account signing keys changed (uploaded ${ids(olds.uploadedKeyIds)}, ` +
            `the cluster now signs with ${observed?.activeKeyId || "an unnamed key"}` +
            `${published(observed)})`,
        );
        break;
      case "renewAt":
        clauses.push(
          `the renewal time ${dueRenewal(olds, news) ?? olds.renewAt} has passed ` +
            `(${OUTPUTS.renewAt.update.why})`,
        );
        break;
      case "group":
        clauses.push(
          `group ${show(olds.group)} -> ${show(news.group)} (${inputSpec("group").update.why})`,
        );
        break;
      case "connectivity":
        clauses.push(
          `the resolved connectivity ${show(olds.connectivity)} -> ${show(observed?.connectivity)} ` +
            `(${OUTPUTS.connectivity.update.why})`,
        );
        break;
      case "issuer":
        clauses.push(
          `the service account issuer ${show(olds.issuer)} -> ${show(observed?.issuer)} ` +
            `(${OUTPUTS.issuer.update.why})`,
        );
        break;
      case "clusterUid":
        clauses.push(
          `the kube-system namespace's UID (clusterUid) ${show(olds.clusterUid)} -> ` +
            `${show(observed?.clusterUid)} (${OUTPUTS.clusterUid.update.why})`,
        );
        break;
      case "remoteId":
        // In another cluster, another agent namespace goes without saying.
        if (replaces.includes("clusterUid")) break;
        clauses.push(
          observed?.agentNamespaceUid
            ? `the agent namespace's UID (remoteId) ${show(olds.remoteId)} -> ` +
                `${show(observed.agentNamespaceUid)} (${OUTPUTS.remoteId.update.why})`
            : `the agent namespace (remoteId ${show(olds.remoteId)}) no longer exists`,
        );
        break;
      default:
        clauses.push(`${reason} changed`);
    }
  }
  return clauses;
}

/**
 * What `up` does for a replacement, and what it leaves alone. The replacement is created first
 * (`deleteBeforeReplace` is false): in the same installation it takes the running agent over, so
 * the old connection's delete leaves the agent in place; in another cluster or agent namespace
 * it installs anew, and the old connection's delete uninstalls and unregisters the old one.
 */
function replaceOutcome(
  olds: ConnectionState,
  news: Record<string, unknown>,
  observed: Observed | undefined,
  replaces: readonly string[],
): string[] {
  const connectivity = observed?.connectivity ?? olds.connectivity;
  const identity =
    connectivity === "private" ? " with a new identity holding the cluster's current keys" : "";
  const group = replaces.includes("group") ? ` in group ${show(news.group)}` : "";
  const oldCluster = olds.clusterId ? ` and unregisters cluster ${olds.clusterId}` : "";
  if (replaces.includes("clusterUid")) {
    return [
      `up installs the agent in the cluster the kubeconfig now names and registers it${group}${identity}`,
      `then the old connection's delete uninstalls the agent from the cluster its stored kubeconfig reaches${oldCluster}`,
    ];
  }
  if (replaces.includes("remoteId")) {
    return [
      `up installs the agent again and registers it anew${group}${identity}`,
      `then the old connection's delete removes what it still owns${oldCluster}`,
    ];
  }
  return [
    `up registers the agent anew${group}${identity}`,
    "the agent is not reinstalled: the new connection takes it over, and the old connection's delete leaves it in place",
  ];
}

/**
 * One setting's change, with old and new values unless they are not shown; with the reason its
 * table gives when `why`, and, when `sameCluster`, that a kubeconfig still names the same cluster
 * (the cluster was checked and nothing replaces).
 */
function settingChange(
  olds: ConnectionState,
  news: Record<string, unknown>,
  property: string,
  { why, sameCluster }: { why: boolean; sameCluster: boolean },
): string {
  const stored = olds as unknown as Record<string, unknown>;
  if (NOT_SHOWN.includes(property)) {
    return `${property} changed (not shown: it may hold credentials)${
      sameCluster ? ", and still names the same cluster" : ""
    }`;
  }
  const reason = why ? reasonOf(property) : undefined;
  const oldValue = property === "platform" ? olds.platform : stored[storedOf(property)];
  return `${fieldChanges(labelOf(property), oldValue, news[storedOf(property)]).join(", ")}${
    reason ? ` (${reason})` : ""
  }`;
}

/** `name old -> new`, or for an object each changed field as `name.field old -> new`. */
function fieldChanges(name: string, before: unknown, after: unknown): string[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const changes = keys
      .filter((key) => !sameJson(before[key], after[key]))
      .map((key) =>
        name === "platform" && key === "caSha256"
          ? "platform CA certificate changed"
          : `${name}.${key} ${show(before[key])} -> ${show(after[key])}`,
      );
    if (changes.length > 0) return changes;
  }
  return [`${name} ${show(before)} -> ${show(after)}`];
}

/** The clauses for what a preview cannot know yet. */
function unknownClauses(
  olds: ConnectionState,
  unknown: readonly string[],
  unobserved: boolean,
): string[] {
  const clauses: string[] = [];
  if (unknown.length > 0) {
    clauses.push(
      `not known until up: ${unknown.join(", ")} (e.g. from a resource created in the same stack)`,
    );
  }
  if (unobserved) {
    clauses.push(
      "the cluster is not checked in this preview: whether it is another cluster, its signing keys " +
        "rotated or its agent namespace was recreated (each would replace the connection) is decided by up",
    );
  }
  const replacing = unknown.filter((p) => isInputProperty(p) && inputSpec(p).update.replace);
  for (const property of replacing) {
    const before = (olds as unknown as Record<string, unknown>)[storedOf(property)];
    clauses.push(`if ${property} is no longer ${show(before)}, up replaces the connection`);
  }
  return clauses;
}

/** The reason an input or checked output's table gives for its change. */
function reasonOf(property: string): string | undefined {
  if (isInputProperty(property)) return inputSpec(property).update.why;
  return property in OUTPUTS
    ? (OUTPUTS[property as keyof typeof OUTPUTS] as { update?: { why: string } }).update?.why
    : undefined;
}

/**
 * How a property is named: an input state keeps under another name by both, as the CLI shows
 * the stored one (`requestedConnectivity (the connectivity input)`).
 */
function labelOf(property: string): string {
  const stored = storedOf(property);
  return stored === property ? property : `${stored} (the ${property} input)`;
}

function storedOf(property: string): string {
  return isInputProperty(property) ? storedKey(property) : property;
}

/** A value as JSON (strings quoted), `(unset)` when absent. */
function show(value: unknown): string {
  return value === undefined || value === null ? UNSET : JSON.stringify(value);
}

/** ` and publishes ...`: the JWKS's key ids, when they are more than the one that signs. */
function published(observed: Observed | undefined): string {
  if (!observed || sameJson(observed.signingKeyIds, [observed.activeKeyId])) return "";
  return ` and publishes ${ids(observed.signingKeyIds)}`;
}

/** Key ids as a list, or `none`. */
function ids(list: readonly string[]): string {
  return list.length > 0 ? list.join(", ") : "none";
}
