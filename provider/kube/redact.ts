/**
 * Keeps kubeconfig credentials out of messages. Errors that reach a person can quote what a
 * kubeconfig holds: an exec credential plugin's stderr becomes @kubernetes/client-node's error
 * message as is, and a plugin may print its token or the environment it was given. Messages built
 * from such errors pass through {@link redactKubeconfig} before they leave the provider. This module
 * only finds a kubeconfig's secrets; replacing them is the provider's one redactor, `../util/redact`.
 * @module
 */

import { parse } from "yaml";

export {
  /** What replaces a credential in a message (the provider's one placeholder). */
  REDACTED,
  /** `message` with every occurrence of each of {@link kubeconfigSecrets} replaced by {@link REDACTED}. */
  redact as redactKubeconfig,
} from "../util/redact";

/** Shorter values are left alone: they are words (`Never`, `v1`), not credentials. */
const MIN_SECRET_LENGTH = 8;

/**
 * The values of a kubeconfig that must never be shown: every string under `users` (tokens,
 * passwords, client keys, exec plugin arguments and environment) but an exec plugin's `command`
 * (a program's name, which a message about the plugin has to show), and the `*-data` fields of
 * `clusters` (certificate authorities: not secret, but kubeconfig contents nobody needs to read
 * in an error). Longest first, so a value containing another is replaced whole. Empty when the
 * text does not parse.
 */
export function kubeconfigSecrets(text: string): string[] {
  let data: unknown;
  try {
    data = parse(text, { prettyErrors: false });
  } catch {
    return [];
  }
  if (typeof data !== "object" || data === null) return [];
  const found = new Set<string>();
  const doc = data as { users?: unknown; clusters?: unknown };
  collectStrings(doc.users, found);
  for (const command of execCommands(doc.users)) found.delete(command);
  for (const entry of Array.isArray(doc.clusters) ? doc.clusters : []) {
    const cluster = (entry as { cluster?: unknown } | null)?.cluster;
    if (typeof cluster !== "object" || cluster === null) continue;
    for (const [key, value] of Object.entries(cluster)) {
      if (key.endsWith("-data") && typeof value === "string") found.add(value);
    }
  }
  return [...found]
    .filter((value) => value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
}

/** The `exec.command` of each user: the plugin a message names. */
function execCommands(users: unknown): string[] {
  if (!Array.isArray(users)) return [];
  return users
    .map(
      (entry) => (entry as { user?: { exec?: { command?: unknown } } } | null)?.user?.exec?.command,
    )
    .filter((command): command is string => typeof command === "string");
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === "string") into.add(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) collectStrings(item, into);
  }
}
