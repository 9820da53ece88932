/**
 * Checks the `kubeconfig` input without contacting the cluster: is it contents or a path, does
 * it parse, does it hold the context to use. Only names (contexts, clusters) and the path ever
 * reach a reason: the contents carry credentials, and even the `yaml` package's error messages
 * quote source lines, so only its error code and line number are used.
 * @module
 */

import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";

import { isRecord } from "../util/json";
import { quoteList, typeName } from "./values";

/** Reads a file as UTF-8; injected so tests need no real files. Throws like `fs.readFileSync`. */
export type ReadFile = (path: string) => string;

/** The default {@link ReadFile}: a local, synchronous read. */
export const readFileUtf8: ReadFile = (path) => readFileSync(path, "utf8");

/** A context entry, by name only. */
export interface KubeconfigContext {
  name: string;
  cluster?: string;
  user?: string;
}

/** What validation needs from a kubeconfig: names only, never credentials. */
export interface KubeconfigSummary {
  /** Where it came from: the input itself, or the file it names. */
  source: { kind: "inline" } | { kind: "path"; path: string };
  currentContext?: string;
  contexts: KubeconfigContext[];
  /** Cluster name → whether it has a `server` URL. */
  clusters: Map<string, boolean>;
  users: Set<string>;
}

/** Outcome of {@link inspectKubeconfig}. */
export type KubeconfigResult =
  | { ok: true; summary: KubeconfigSummary }
  | { ok: false; reason: string };

/** Outcome of {@link selectContext}; `property` is the input a user should change. */
export type ContextResult =
  | { ok: true; context: KubeconfigContext }
  | { ok: false; property: "context" | "kubeconfig"; reason: string };

const FIX =
  'Pass the kubeconfig contents (YAML or JSON) or the path of a kubeconfig file; "kubectl config view --raw --minify" prints a complete one.';

/**
 * True when `value` is kubeconfig contents rather than a path: it spans several lines or starts
 * with `{` (single-line JSON). Validation and the Kubernetes client decide by this one rule.
 */
export function isInlineKubeconfig(value: string): boolean {
  return /[\r\n]/.test(value) || value.trimStart().startsWith("{");
}

/**
 * Decides whether `value` is kubeconfig contents or a path, reads the file for a path, and
 * parses and checks the structure: a mapping with `clusters`, `contexts` and `users` lists whose
 * entries have names. A value is contents when it spans several lines or starts with `{`
 * (single-line JSON); any other single line is a path, resolved against the working directory.
 */
export function inspectKubeconfig(value: string, readFile: ReadFile): KubeconfigResult {
  if (value.trim() === "") return { ok: false, reason: `The kubeconfig is empty. ${FIX}` };
  if (isInlineKubeconfig(value)) {
    return summarize(value, "The kubeconfig contents", { kind: "inline" });
  }
  if (looksLikeBase64Kubeconfig(value)) {
    return {
      ok: false,
      reason:
        'The kubeconfig looks like base64-encoded kubeconfig contents; decode it first, e.g. Buffer.from(value, "base64").toString("utf8").',
    };
  }

  const shown = describePath(value);
  let text: string;
  try {
    text = readFile(value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const problem =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES" || code === "EPERM"
          ? "is not readable (permission denied)"
          : code === "EISDIR"
            ? "is a directory"
            : `could not be read (${code ?? "unknown error"})`;
    const tilde = value.startsWith("~") ? " '~' is not expanded: use an absolute path." : "";
    return {
      ok: false,
      reason: `The kubeconfig file ${shown} ${problem}. A single-line kubeconfig is read as a path, relative to the directory Pulumi runs in.${tilde} ${FIX}`,
    };
  }
  return summarize(text, `The kubeconfig file ${shown}`, { kind: "path", path: value });
}

/**
 * Picks the context to use: `context` when given, else `current-context`. Checks that it exists
 * and that the cluster and user it names are defined, with the cluster's server URL.
 */
export function selectContext(summary: KubeconfigSummary, context?: string): ContextResult {
  const names = summary.contexts.map((entry) => entry.name);
  const available =
    names.length === 0 ? "it defines no contexts" : `available: ${quoteList(names)}`;
  const wanted = context ?? summary.currentContext;
  if (wanted === undefined) {
    return {
      ok: false,
      property: "context",
      reason: `The kubeconfig has no current-context (${available}). Pass 'context' to choose the context of the cluster to connect.`,
    };
  }
  const entry = summary.contexts.find((candidate) => candidate.name === wanted);
  if (entry === undefined) {
    const subject =
      context === undefined
        ? `The kubeconfig's current-context "${wanted}"`
        : `Context "${wanted}"`;
    return {
      ok: false,
      property: "context",
      reason: `${subject} is not in the kubeconfig (${available}). Pass one of those as 'context'.`,
    };
  }

  const broken = (problem: string): ContextResult => ({
    ok: false,
    property: "kubeconfig",
    reason: `Context "${wanted}" ${problem}. Fix the kubeconfig, or pass another 'context' (${available}).`,
  });
  if (entry.cluster === undefined) return broken("names no cluster");
  const hasServer = summary.clusters.get(entry.cluster);
  if (hasServer === undefined) {
    return broken(
      `refers to cluster "${entry.cluster}", which is not in the kubeconfig's clusters`,
    );
  }
  if (!hasServer) return broken(`refers to cluster "${entry.cluster}", which has no server URL`);
  // The user's name is not shown: unlike context and cluster names it may identify a credential.
  if (entry.user !== undefined && !summary.users.has(entry.user)) {
    return broken("refers to a user that is not in the kubeconfig's users");
  }
  return { ok: true, context: entry };
}

/**
 * Parses kubeconfig text and checks its structure into a {@link KubeconfigSummary}. `what` names
 * the text in a reason ("The kubeconfig file ..."), which then ends with the accepted forms.
 */
function summarize(
  text: string,
  what: string,
  source: KubeconfigSummary["source"],
): KubeconfigResult {
  const fail = (problem: string): KubeconfigResult => ({ ok: false, reason: `${problem} ${FIX}` });
  const data = parseMapping(text, what);
  if (typeof data === "string") return fail(data);
  const lists = namedLists(data, what);
  if (typeof lists === "string") return fail(lists);
  return { ok: true, summary: summaryOf(data, lists, source) };
}

/** The three lists a kubeconfig needs, each entry with a name. */
interface NamedLists {
  clusters: Record<string, unknown>[];
  contexts: Record<string, unknown>[];
  users: Record<string, unknown>[];
}

/**
 * The text parsed as YAML (JSON included) into a mapping, or what is wrong. Only the `yaml`
 * package's error code and line number are used: its messages quote the source.
 */
function parseMapping(text: string, what: string): Record<string, unknown> | string {
  const document = parseDocument(text, { prettyErrors: false });
  const error = document.errors[0];
  if (error !== undefined) {
    const line = error.linePos?.[0].line;
    const where = line === undefined ? error.code : `${error.code} at line ${line}`;
    return `${what} could not be parsed as YAML or JSON (${where}).`;
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch {
    // Only alias expansion limits throw here; the message is not needed and may quote source.
    return `${what} could not be parsed as YAML or JSON (too many aliases).`;
  }
  if (!isRecord(data)) {
    return `${what} is not a kubeconfig: it holds ${typeName(data)}, not a mapping.`;
  }
  return data;
}

/**
 * `clusters`, `contexts` and `users`, each present and a list (null counts as empty) of entries
 * with a non-empty name; or what is wrong with the first that is not.
 */
function namedLists(data: Record<string, unknown>, what: string): NamedLists | string {
  const lists: Partial<NamedLists> = {};
  for (const key of ["clusters", "contexts", "users"] as const) {
    const list = data[key];
    if (list === undefined) {
      return `${what} has no '${key}'; a kubeconfig needs clusters, contexts and users.`;
    }
    // kubectl writes `users: null` for an empty list.
    const entries = list === null ? [] : list;
    if (!Array.isArray(entries)) {
      return `${what} has '${key}' as ${typeName(list)}, not a list.`;
    }
    for (const [index, entry] of entries.entries()) {
      if (!isRecord(entry) || typeof entry.name !== "string" || entry.name === "") {
        return `${what} has an entry without a name at ${key}[${index}].`;
      }
    }
    lists[key] = entries as Record<string, unknown>[];
  }
  return lists as NamedLists;
}

/** The names validation needs: contexts with their cluster and user, clusters with a server. */
function summaryOf(
  data: Record<string, unknown>,
  lists: NamedLists,
  source: KubeconfigSummary["source"],
): KubeconfigSummary {
  const contexts = lists.contexts.map((entry): KubeconfigContext => {
    const body = isRecord(entry.context) ? entry.context : {};
    return {
      name: entry.name as string,
      ...(typeof body.cluster === "string" && body.cluster !== "" ? { cluster: body.cluster } : {}),
      ...(typeof body.user === "string" && body.user !== "" ? { user: body.user } : {}),
    };
  });
  const clusters = new Map(
    lists.clusters.map((entry) => {
      const server = isRecord(entry.cluster) ? entry.cluster.server : undefined;
      return [entry.name as string, typeof server === "string" && server !== ""] as const;
    }),
  );
  const current = data["current-context"];
  return {
    source,
    ...(typeof current === "string" && current !== "" ? { currentContext: current } : {}),
    contexts,
    clusters,
    users: new Set(lists.users.map((entry) => entry.name as string)),
  };
}

/** Names a path in a reason only when it looks like one; a mistaken secret is not echoed. */
function describePath(value: string): string {
  const pathLike = value.length <= 200 && /[/\\.]/.test(value) && !/[\p{Cc}]/u.test(value);
  return pathLike ? `"${value}"` : `given (${value.length} characters, not shown)`;
}

/** A common mistake in CI: passing a base64 secret as is. */
function looksLikeBase64Kubeconfig(value: string): boolean {
  if (value.length < 64 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return false;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  return decoded.includes("clusters") && decoded.includes("contexts");
}
