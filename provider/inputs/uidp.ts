/**
 * UIDPs, the platform's hierarchical ids: a root of 40 lowercase hex digits, then zero or more
 * `/`-separated segments of 16 lowercase hex digits. A child's id is its parent's id plus one
 * segment, so a group, its clusters and its identities share a prefix.
 * @module
 */

const ROOT_LENGTH = 40;
const SEGMENT_LENGTH = 16;

/** Why a UIDP was rejected. */
export type UidpErrorCode =
  | "EMPTY"
  | "ROOT_LENGTH"
  | "ROOT_CHARACTER"
  | "SEGMENT_EMPTY"
  | "SEGMENT_LENGTH"
  | "SEGMENT_CHARACTER";

/** Outcome of {@link parseUidp}. */
export type UidpResult =
  | { ok: true; root: string; segments: string[] }
  | { ok: false; code: UidpErrorCode; reason: string };

/** The rule, appended to every reason so it says what a valid value looks like. */
export const UIDP_FORM =
  "A UIDP is 40 lowercase hex digits, optionally followed by segments of '/' and 16 lowercase hex digits each.";

function fail(code: UidpErrorCode, problem: string): UidpResult {
  return { ok: false, code, reason: `${problem}. ${UIDP_FORM}` };
}

/** Describes the first character of `part` that is not a lowercase hex digit, or undefined. */
function badCharacter(part: string, where: string): string | undefined {
  const index = part.search(/[^0-9a-f]/);
  if (index === -1) return undefined;
  const character = part.charAt(index);
  const hint = /[A-F]/.test(character)
    ? " (hex digits must be lowercase)"
    : /\s/.test(character)
      ? " (remove the whitespace)"
      : "";
  return `${where} has ${JSON.stringify(character)} at position ${index + 1}, which is not a lowercase hex digit${hint}`;
}

/**
 * Checks a UIDP and splits it into root and segments. Pure; never throws. The reason names the
 * part at fault: the root's length or a character in it (1-based position), or segment n
 * (1-based, counting after the root) being empty, of the wrong length, or holding a bad character.
 */
export function parseUidp(value: string): UidpResult {
  if (value === "") return fail("EMPTY", "the id is empty");
  const [root, ...segments] = value.split("/") as [string, ...string[]];

  const rootCharacter = badCharacter(root, "the root");
  if (rootCharacter !== undefined) return fail("ROOT_CHARACTER", rootCharacter);
  if (root.length !== ROOT_LENGTH) {
    return fail(
      "ROOT_LENGTH",
      `the root is ${root.length} characters long instead of ${ROOT_LENGTH}${root === "" ? " (the id starts with '/')" : ""}`,
    );
  }

  for (const [index, segment] of segments.entries()) {
    const where = `segment ${index + 1}`;
    if (segment === "") {
      return fail("SEGMENT_EMPTY", `${where} is empty (a doubled or trailing '/')`);
    }
    const character = badCharacter(segment, where);
    if (character !== undefined) return fail("SEGMENT_CHARACTER", character);
    if (segment.length !== SEGMENT_LENGTH) {
      return fail(
        "SEGMENT_LENGTH",
        `${where} is ${segment.length} characters long instead of ${SEGMENT_LENGTH}`,
      );
    }
  }
  return { ok: true, root, segments };
}

/** True when `value` is a string that {@link parseUidp} accepts. */
export function isUidp(value: unknown): value is string {
  return typeof value === "string" && parseUidp(value).ok;
}
