/**
 * Plain JSON values in one canonical form: keys sorted at every depth, so that equal values
 * serialise to identical text. State is written this way and `diff` compares this way, so a
 * reordering never shows as a change.
 * @module
 */

/** A plain mapping (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy with the keys of every object sorted, so equal values serialise to identical JSON. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => sortKeys(item)) as T;
  if (!isRecord(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted as T;
}

/**
 * Equality of plain JSON values, independent of object key order. A key whose value is
 * `undefined` counts as absent; `undefined` itself equals only `undefined`.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

/**
 * A value read from an untrusted answer (a discovery document, a key set, a token), quoted as
 * JSON and cut to about `max` characters, for a message: a hostile value cannot make one long.
 */
export function quoteShort(value: unknown, max = 100): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
  }
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
