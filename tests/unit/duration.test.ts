import {
  DURATION_FORMS,
  formatDuration,
  parseDuration,
  type DurationErrorCode,
} from "../../provider/inputs/duration";

describe("parseDuration", () => {
  test.each([
    ["90s", 90],
    ["5m", 300],
    ["12h", 43_200],
    ["25d", 2_160_000],
    ["1h30m", 5_400],
    ["1d12h", 129_600],
    ["2d3h4m5s", 183_845],
    ["90m", 5_400],
    ["05m", 300],
  ])("%s is %d seconds", (text, seconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, seconds });
  });

  test.each<[string, DurationErrorCode, string]>([
    ["", "EMPTY", "is empty"],
    [" 5m", "WHITESPACE", "contains whitespace"],
    ["5 m", "WHITESPACE", "contains whitespace"],
    ["-5m", "NEGATIVE", "is negative"],
    ["+5m", "INVALID", 'unexpected character "+" at position 1'],
    ["0s", "ZERO", "is zero"],
    ["0h0m", "ZERO", "is zero"],
    ["5", "MISSING_UNIT", 'add one, e.g. "5s"'],
    ["1h30", "MISSING_UNIT", "number without a unit (30)"],
    ["5w", "UNKNOWN_UNIT", 'unknown unit "w"'],
    ["5M", "UNKNOWN_UNIT", "units are lowercase"],
    ["500ms", "UNKNOWN_UNIT", "sub-second units are not supported"],
    ["1.5h", "FRACTION", 'write "1h30m" instead'],
    ["0.5s", "FRACTION", "use whole numbers of a smaller unit"],
    ["30m1h", "UNIT_ORDER", "smaller unit before a larger one"],
    ["1h1h", "UNIT_ORDER", "repeats a unit"],
    ["h", "INVALID", 'unexpected character "h"'],
    ["1h-5m", "INVALID", 'unexpected character "-" at position 3'],
    ["99999999999999999999d", "TOO_LARGE", "is too large"],
  ])("rejects %j (%s)", (text, code, fragment) => {
    const result = parseDuration(text);
    expect(result).toMatchObject({ ok: false, code });
    if (result.ok) return;
    expect(result.reason).toContain(fragment);
    expect(result.reason).toContain(JSON.stringify(text));
    // Every reason shows the accepted forms, so it always says how to fix it.
    expect(result.reason.endsWith(DURATION_FORMS)).toBe(true);
  });

  test("zero is accepted when allowed", () => {
    expect(parseDuration("0s", { allowZero: true })).toEqual({ ok: true, seconds: 0 });
    expect(parseDuration("0m", { allowZero: false })).toMatchObject({ ok: false, code: "ZERO" });
  });
});

describe("formatDuration", () => {
  test.each([
    [0, "0s"],
    [1, "1s"],
    [90, "1m30s"],
    [300, "5m"],
    [3_600, "1h"],
    [5_400, "1h30m"],
    [86_400, "1d"],
    [2_160_000, "25d"],
    [90_061, "1d1h1m1s"],
  ])("%d seconds is %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  test("round-trips through parseDuration", () => {
    for (const seconds of [1, 59, 61, 3_599, 3_601, 86_399, 86_401, 2_592_000, 123_456_789]) {
      expect(parseDuration(formatDuration(seconds))).toEqual({ ok: true, seconds });
    }
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])(
    "rejects %p with a RangeError",
    (seconds) => {
      expect(() => formatDuration(seconds)).toThrow(RangeError);
    },
  );
});
