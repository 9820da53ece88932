/**
 * Drift of an installation: how the objects in the cluster differ from the objects a connection
 * applied, field by field. Pure. Only the fields the manifests set are compared, so what the API
 * server defaults, and what others add beside ours (a label, a map key, a container), is not
 * drift; a field we set that holds another value, or is gone, is. Secret values never appear:
 * a Secret's data is named by key only.
 * @module
 */

import { isRecord, sameJson } from "../util/json";
import { describeObject, type KubeObject } from "./manifests";
import { AGENT_NAMESPACE, CREDS_SECRET } from "./names";

/** An object as read from the cluster (the fields drift looks at). */
export interface LiveObject extends KubeObject {
  metadata: KubeObject["metadata"] & { deletionTimestamp?: string };
}

/** Differences reported per object at most; the rest are counted. */
const MAX_PER_OBJECT = 5;
/** Longer values (a CA bundle) are not quoted, only said to differ; an image reference fits. */
const MAX_VALUE = 200;

/**
 * Lists whose entries are merged by key under server-side apply: an entry someone else added is
 * theirs, and applying ours again leaves it, so it is not drift. Every other list is replaced
 * whole by an apply, so an added entry is drift (e.g. a subject added to a RoleBinding).
 */
const MERGED_LISTS = new Set([
  "containers",
  "initContainers",
  "env",
  "ports",
  "volumes",
  "volumeMounts",
  "webhooks",
]);

/**
 * The drift of `desired` objects against the `live` ones, one line per difference
 * (`Kind namespace/name: what`), sorted. An object missing from `live` is `deleted`.
 */
export function installationDrift(
  desired: readonly KubeObject[],
  live: readonly LiveObject[],
): string[] {
  const lines: string[] = [];
  for (const object of desired) {
    const found = live.find((o) => sameObject(o, object));
    const name = describeObject(object);
    const differences = found ? objectDrift(object, found) : ["deleted"];
    lines.push(...capped(differences).map((what) => `${name}: ${what}`));
  }
  return lines.sort();
}

/** How one live object differs from the desired one; `[]` when it does not. */
export function objectDrift(desired: KubeObject, live: LiveObject): string[] {
  const out: string[] = [];
  if (live.metadata.deletionTimestamp) out.push("being deleted");
  const secret = desired.kind === "Secret";
  for (const key of Object.keys(desired).sort()) {
    if (key === "apiVersion" || key === "kind") continue;
    const isData = secret && (key === "data" || key === "stringData");
    if (isData) secretData(desired[key], live[key], out);
    else compare(desired[key], live[key], key, out);
  }
  return out;
}

/** The differences, at most {@link MAX_PER_OBJECT} of them and a count of the rest. */
function capped(differences: string[]): string[] {
  if (differences.length <= MAX_PER_OBJECT) return differences;
  const more = differences.length - (MAX_PER_OBJECT - 1);
  return [...differences.slice(0, MAX_PER_OBJECT - 1), `${more} more fields differ`];
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.metadata.name === b.metadata.name &&
    (a.metadata.namespace ?? "") === (b.metadata.namespace ?? "")
  );
}

/** Compares `want` (a field the manifests set) with `got` at `path`, adding differences. */
function compare(want: unknown, got: unknown, path: string, out: string[]): void {
  // An empty list or map sets nothing: what fills it is someone else's (an aggregated
  // ClusterRole's rules, the keys the agent writes into an empty ConfigMap).
  if (isEmpty(want)) return;
  if (isRecord(want)) {
    if (got !== undefined && got !== null && !isRecord(got)) {
      out.push(difference(path, got, want));
      return;
    }
    const held = isRecord(got) ? got : {};
    for (const key of Object.keys(want).sort())
      compare(want[key], held[key], child(path, key), out);
    return;
  }
  if (Array.isArray(want)) {
    compareList(want, got, path, out);
    return;
  }
  if (!sameScalar(want, got)) out.push(difference(path, got, want));
}

/**
 * Compares a list: entries with a `name` are matched by name, others by position (paths name
 * the desired entry's position, as `kubectl get -o jsonpath` would); a list of plain values is
 * compared whole.
 */
function compareList(want: unknown[], got: unknown, path: string, out: string[]): void {
  if (!Array.isArray(got)) {
    out.push(difference(path, got, want));
    return;
  }
  if (!want.some((entry) => isRecord(entry) || Array.isArray(entry))) {
    if (!sameJson(want, got)) out.push(difference(path, got, want));
    return;
  }
  const held = got as unknown[];
  const named = want.every((entry) => isRecord(entry) && typeof entry.name === "string");
  want.forEach((entry, i) => {
    const match: unknown = named
      ? held.find((g) => isRecord(g) && g.name === (entry as { name: string }).name)
      : held[i];
    if (match === undefined) out.push(`${path}[${i}] is missing`);
    else compare(entry, match, `${path}[${i}]`, out);
  });
  if (held.length > want.length && !MERGED_LISTS.has(lastSegment(path))) {
    out.push(`${path} has ${held.length} entries, want ${want.length}`);
  }
}

/** A Secret's data, by key only: never a value, not even a changed one. */
function secretData(want: unknown, got: unknown, out: string[]): void {
  const wanted = isRecord(want) ? want : {};
  const held = isRecord(got) ? got : {};
  for (const key of Object.keys(wanted).sort()) {
    if (held[key] === undefined) out.push(`key ${key} removed`);
    else if (held[key] === "" && wanted[key] !== "") out.push(`key ${key} emptied`);
    else if (held[key] !== wanted[key]) out.push(`key ${key} changed`);
  }
}

/**
 * Drift of Secret `gulfstream/mcp-creds`, whose values the connection does not keep (the invite
 * code is used once): it must exist and hold a non-empty `code` and `cluster-name`, and for a
 * private connection its identity.
 */
export function credentialsDrift(
  live: LiveObject | undefined,
  expected: { identityId: string },
): string[] {
  const name = `Secret ${AGENT_NAMESPACE}/${CREDS_SECRET}`;
  if (!live) return [`${name}: deleted`];
  const data = isRecord(live.data) ? live.data : {};
  const lines: string[] = [];
  for (const key of ["code", "cluster-name"]) {
    if (data[key] === undefined) lines.push(`${name}: key ${key} removed`);
    else if (data[key] === "") lines.push(`${name}: key ${key} emptied`);
  }
  const identity = typeof data["identity-uid"] === "string" ? data["identity-uid"] : "";
  const decoded = Buffer.from(identity, "base64").toString("utf8");
  if (expected.identityId && decoded !== expected.identityId) {
    lines.push(`${name}: key identity-uid ${identity ? "changed" : "removed or emptied"}`);
  }
  return lines;
}

/** Whether a drift line is about `mcp-creds`, which only a new registration restores. */
export function isCredentialsDrift(line: string): boolean {
  return line.startsWith(`Secret ${AGENT_NAMESPACE}/${CREDS_SECRET}: `);
}

/**
 * How `up` restores drift: it applies the objects again; `mcp-creds`, whose invite code was used
 * once and is not kept, only a new registration restores.
 */
export function restoreHow(state: { connectivity: string }, drift: readonly string[]): string {
  const apply = "it applies them again; the agent keeps running";
  if (!drift.some(isCredentialsDrift)) return apply;
  const identity = state.connectivity === "private" ? " and a new identity" : "";
  return (
    `${apply}, and rewrites Secret ${AGENT_NAMESPACE}/${CREDS_SECRET}: ` +
    `the agent registers again with a new invite${identity}`
  );
}

/** Drift lines as a sentence shows them: `; `-separated, the first `max`, then a count. */
export function listDrift(drift: readonly string[], max = 10): string {
  const shownLines = drift.slice(0, max).join("; ");
  return drift.length > max ? `${shownLines}; and ${drift.length - max} more` : shownLines;
}

/** The object a drift line names (`Kind namespace/name`). */
export function driftedObject(line: string): string {
  const at = line.indexOf(": ");
  return at < 0 ? line : line.slice(0, at);
}

function isEmpty(value: unknown): boolean {
  return (
    (Array.isArray(value) && value.length === 0) ||
    (isRecord(value) && Object.keys(value).length === 0)
  );
}

/** Equal scalars; a number and its decimal text count as equal (ports, quantities). */
function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const kinds = new Set([typeof a, typeof b]);
  return kinds.size === 2 && kinds.has("number") && kinds.has("string") && String(a) === String(b);
}

function child(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${key}]`;
}

function lastSegment(path: string): string {
  const match = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(path);
  return match?.[1] ?? path;
}

/** `path is X, want Y`; `path differs` when either value is too long to read in a line. */
function difference(path: string, got: unknown, want: unknown): string {
  const [g, w] = [shown(got), shown(want)];
  return g.length > MAX_VALUE || w.length > MAX_VALUE
    ? `${path} differs`
    : `${path} is ${g}, want ${w}`;
}

/** A value as a drift line shows it: plain text for simple strings, JSON otherwise. */
function shown(value: unknown): string {
  if (value === undefined || value === null) return "unset";
  if (typeof value === "string" && /^[^\s,;"]+$/.test(value)) return value;
  return JSON.stringify(value);
}
