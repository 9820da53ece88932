import { isUidp, parseUidp, UIDP_FORM, type UidpErrorCode } from "../../provider/inputs/uidp";

const ROOT = "0123456789abcdef0123456789abcdef01234567";
const SEGMENT = "89abcdef01234567";

describe("parseUidp", () => {
  test.each([
    [ROOT, []],
    [`${ROOT}/${SEGMENT}`, [SEGMENT]],
    [`${ROOT}/${SEGMENT}/0000000000000000`, [SEGMENT, "0000000000000000"]],
  ])("accepts %s", (value, segments) => {
    expect(parseUidp(value)).toEqual({ ok: true, root: ROOT, segments });
    expect(isUidp(value)).toBe(true);
  });

  test.each<[string, string, UidpErrorCode, string]>([
    ["empty", "", "EMPTY", "the id is empty"],
    ["short root", ROOT.slice(1), "ROOT_LENGTH", "the root is 39 characters long instead of 40"],
    ["long root", `${ROOT}0`, "ROOT_LENGTH", "the root is 41 characters long instead of 40"],
    [
      "leading slash",
      `/${ROOT}`,
      "ROOT_LENGTH",
      "the root is 0 characters long instead of 40 (the id starts with '/')",
    ],
    [
      "uppercase root",
      ROOT.toUpperCase(),
      "ROOT_CHARACTER",
      '"A" at position 11, which is not a lowercase hex digit (hex digits must be lowercase)',
    ],
    ["non-hex in root", `g${ROOT.slice(1)}`, "ROOT_CHARACTER", 'the root has "g" at position 1'],
    ["a group name", "my-group", "ROOT_CHARACTER", 'the root has "m" at position 1'],
    ["whitespace", `${ROOT} `, "ROOT_CHARACTER", "(remove the whitespace)"],
    ["trailing slash", `${ROOT}/`, "SEGMENT_EMPTY", "segment 1 is empty"],
    ["doubled slash", `${ROOT}/${SEGMENT}//${SEGMENT}`, "SEGMENT_EMPTY", "segment 2 is empty"],
    [
      "short segment",
      `${ROOT}/${SEGMENT.slice(1)}`,
      "SEGMENT_LENGTH",
      "segment 1 is 15 characters long instead of 16",
    ],
    [
      "root-length segment",
      `${ROOT}/${SEGMENT}/${ROOT}`,
      "SEGMENT_LENGTH",
      "segment 2 is 40 characters long instead of 16",
    ],
    [
      "uppercase segment",
      `${ROOT}/${SEGMENT}/89ABCDEF01234567`,
      "SEGMENT_CHARACTER",
      'segment 2 has "A" at position 3',
    ],
  ])("rejects %s", (_label, value, code, fragment) => {
    const result = parseUidp(value);
    expect(result).toMatchObject({ ok: false, code });
    if (result.ok) return;
    expect(result.reason).toContain(fragment);
    expect(result.reason.endsWith(UIDP_FORM)).toBe(true);
    expect(isUidp(value)).toBe(false);
  });

  test("isUidp rejects non-strings", () => {
    expect(isUidp(42)).toBe(false);
    expect(isUidp(undefined)).toBe(false);
    expect(isUidp([ROOT])).toBe(false);
  });
});
