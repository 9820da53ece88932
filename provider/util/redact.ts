/**
 * The one way credentials are kept out of text a person or a log may read: every occurrence of
 * each secret becomes {@link REDACTED}. The Kubernetes side (kubeconfig contents in messages),
 * the platform client (credentials the platform echoes back) and the local agent stand-in all
 * use it.
 * @module
 */

/** What replaces a credential in a message. */
export const REDACTED = "[REDACTED]";

/**
 * `text` with every occurrence of each secret replaced by {@link REDACTED}. Longer secrets go
 * first, so a secret containing another is replaced whole; empty ones are ignored.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  const longestFirst = [...secrets].filter(Boolean).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of longestFirst) out = out.split(secret).join(REDACTED);
  return out;
}
