/**
 * Durations as users write them in resource inputs: `"90s"`, `"5m"`, `"12h"`, `"25d"`, and
 * Go-style compounds such as `"1h30m"`. Whole seconds only: nothing this resource schedules
 * needs finer resolution, and whole numbers keep state free of float noise.
 * @module
 */

/** The units a duration may use, largest first, with their length in seconds. */
const UNITS = [
  ["d", 86_400],
  ["h", 3_600],
  ["m", 60],
  ["s", 1],
] as const;

/** A duration unit: days, hours, minutes or seconds. */
export type DurationUnit = (typeof UNITS)[number][0];

/** Appended to every parse failure so the reason always shows what would be accepted. */
export const DURATION_FORMS =
  'Write whole numbers with a unit s, m, h or d, combined from largest to smallest unit, e.g. "90s", "5m", "12h", "25d" or "1h30m".';

/** Why a duration was rejected. */
export type DurationErrorCode =
  | "EMPTY"
  | "WHITESPACE"
  | "NEGATIVE"
  | "ZERO"
  | "MISSING_UNIT"
  | "UNKNOWN_UNIT"
  | "FRACTION"
  | "UNIT_ORDER"
  | "INVALID"
  | "TOO_LARGE";

/** Outcome of {@link parseDuration}; `reason` is a full sentence ending in the accepted forms. */
export type DurationResult =
  | { ok: true; seconds: number }
  | { ok: false; code: DurationErrorCode; reason: string };

/** Options for {@link parseDuration}. */
export interface DurationParseOptions {
  /**
   * Accept a total of zero (`"0s"`).
   * @default false
   */
  allowZero?: boolean;
}

const SECONDS_PER: Record<string, number> = Object.fromEntries(UNITS);
// One term: digits, an optional fraction (only so it can be reported as such), a unit made of
// letters (so "ms" or "w" surface as unknown units rather than as stray characters).
const TERM = /(\d+)(\.\d*)?([a-zA-Zµ]*)/y;

/** A rejected duration. */
type DurationFailure = Extract<DurationResult, { ok: false }>;

function failure(code: DurationErrorCode, text: string, problem: string): DurationFailure {
  return { ok: false, code, reason: `${JSON.stringify(text)} ${problem}. ${DURATION_FORMS}` };
}

/**
 * Parses a duration into whole seconds. Pure; never throws for bad text.
 *
 * Rejected: the empty string, whitespace, signs, fractions (`"1.5h"`: write `"1h30m"`),
 * numbers without a unit, units other than s/m/h/d (including sub-second ones), a unit used
 * twice or out of order (`"30m1h"`), totals beyond `Number.MAX_SAFE_INTEGER` seconds, and zero
 * unless {@link DurationParseOptions.allowZero} is set.
 */
export function parseDuration(text: string, options: DurationParseOptions = {}): DurationResult {
  const problem = wholeTextProblem(text);
  if (problem) return problem;
  let seconds = 0;
  let previousRank = -1;
  let position = 0;
  while (position < text.length) {
    const term = readTerm(text, position, previousRank);
    if ("code" in term) return term;
    position = term.end;
    previousRank = term.rank;
    seconds += term.seconds;
    if (!Number.isSafeInteger(seconds)) return failure("TOO_LARGE", text, "is too large");
  }
  if (seconds === 0 && options.allowZero !== true) {
    return failure("ZERO", text, "is zero; a positive duration is required");
  }
  return { ok: true, seconds };
}

/** What is wrong with the text as a whole (empty, whitespace, a sign), before any term is read. */
function wholeTextProblem(text: string): DurationFailure | undefined {
  if (text === "") return failure("EMPTY", text, "is empty");
  if (/\s/.test(text)) return failure("WHITESPACE", text, "contains whitespace; remove it");
  if (text.startsWith("-"))
    return failure("NEGATIVE", text, "is negative; durations must be positive");
  return undefined;
}

/** One term as read: its length in seconds, its unit's rank in {@link UNITS}, where it ends. */
interface Term {
  seconds: number;
  rank: number;
  end: number;
}

/**
 * Reads the term at `position`: whole digits followed by a known unit that is smaller than the
 * previous term's (`previousRank`, -1 before the first term).
 */
function readTerm(text: string, position: number, previousRank: number): Term | DurationFailure {
  TERM.lastIndex = position;
  const match = TERM.exec(text);
  if (match === null) {
    const character = JSON.stringify(text[position]);
    return failure(
      "INVALID",
      text,
      `has an unexpected character ${character} at position ${position + 1}`,
    );
  }
  const [term, digits, fraction, unit] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  if (unit === "") {
    return failure(
      "MISSING_UNIT",
      text,
      `has a number without a unit (${digits}); add one, e.g. "${digits}s"`,
    );
  }
  const rank = UNITS.findIndex(([name]) => name === unit);
  if (rank === -1) return unknownUnit(text, unit);
  if (fraction !== undefined) {
    return failure(
      "FRACTION",
      text,
      `uses a fraction (${term})${fractionHint(digits + fraction, unit)}`,
    );
  }
  if (rank <= previousRank) {
    return failure(
      "UNIT_ORDER",
      text,
      `repeats a unit or lists a smaller unit before a larger one`,
    );
  }
  return { seconds: Number(digits) * SECONDS_PER[unit]!, rank, end: TERM.lastIndex };
}

/** A unit other than s/m/h/d, with a hint for sub-second and uppercase units. */
function unknownUnit(text: string, unit: string): DurationFailure {
  const hint = /^(ms|us|µs|ns)$/.test(unit)
    ? "; sub-second units are not supported, the smallest unit is s"
    : unit.toLowerCase() !== unit
      ? "; units are lowercase"
      : "";
  return failure("UNKNOWN_UNIT", text, `uses the unknown unit "${unit}"${hint}`);
}

/** Suggests the whole-number spelling of a fractional term, e.g. 1.5h → 1h30m, when there is one. */
function fractionHint(number: string, unit: string): string {
  const seconds = Number(number) * SECONDS_PER[unit]!;
  return Number.isSafeInteger(seconds) && seconds > 0
    ? `; write "${formatDuration(seconds)}" instead`
    : "; use whole numbers of a smaller unit instead";
}

/**
 * Formats whole seconds as the shortest duration string {@link parseDuration} reads back to the
 * same value: units largest first, zero parts left out (`90` → `"1m30s"`, `86400` → `"1d"`,
 * `0` → `"0s"`). Used to store one canonical spelling, so `"24h"` and `"1d"` never diff.
 * @throws RangeError when `seconds` is not a non-negative safe integer.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(
      `formatDuration expects a non-negative whole number of seconds, got ${seconds}`,
    );
  }
  if (seconds === 0) return "0s";
  let rest = seconds;
  let text = "";
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}
