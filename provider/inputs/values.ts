/**
 * Small helpers shared by the input checks; not part of the package's API.
 * @module
 */

import { isRecord } from "../util/json";

/** `"a", "b", "c"`: how names are listed in reasons. */
export function quoteList(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ");
}

/** A short name of a value's JSON type for reasons: `a string`, `a list`, `null`... */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "object":
      return "an object";
    case "undefined":
      return "nothing";
    default:
      return `a ${typeof value}`;
  }
}

/** Whether a value is, or contains at any depth, Pulumi's unknown sentinel. */
export function containsUnknown(value: unknown, sentinel: string): boolean {
  if (value === sentinel) return true;
  if (Array.isArray(value)) return value.some((item) => containsUnknown(item, sentinel));
  if (isRecord(value)) return Object.values(value).some((item) => containsUnknown(item, sentinel));
  return false;
}

/**
 * The known name a misspelt one most likely meant, comparing without case, `_` and `-` (the CLI
 * spells options in snake_case, `webhook_fail_open`), or undefined.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const fold = (text: string) => text.toLowerCase().replace(/[_-]/g, "");
  return known.find((candidate) => fold(candidate) === fold(name));
}
