import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../../local/package-root";

/**
 * Golden files: expected text checked in under `tests/golden/`, compared exactly with what a
 * test produced. `UPDATE_GOLDEN=1` writes the produced text instead of comparing, so changing
 * what the CLI shows is a reviewed diff of these files.
 */

/** Where the golden files live. */
export const GOLDEN_DIR = path.join(packageRoot(), "tests", "golden");

/** Whether this run rewrites the golden files (`UPDATE_GOLDEN=1`) instead of comparing. */
export const updatingGolden = process.env.UPDATE_GOLDEN === "1";

/**
 * Compares `actual` with the golden file `name` (relative to tests/golden, e.g.
 * `preview/key-rotation.diff.txt`); throws with a unified diff when they differ, or when the
 * file is missing. Under `UPDATE_GOLDEN=1`, writes `actual` to the file instead.
 */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  const text = actual.endsWith("\n") ? actual : `${actual}\n`;
  if (updatingGolden) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return;
  }
  if (!fs.existsSync(file)) {
    throw new Error(
      `golden file tests/golden/${name} does not exist. Run the test with UPDATE_GOLDEN=1 to ` +
        `write it, then review and commit it. The text was:\n${text}`,
    );
  }
  const expected = fs.readFileSync(file, "utf8");
  if (expected === text) return;
  throw new Error(
    `the output differs from tests/golden/${name} (- expected, + actual). If the change is ` +
      `intended, run the test with UPDATE_GOLDEN=1 and review the diff of tests/golden/.\n` +
      unifiedDiff(expected, text, `tests/golden/${name}`, "actual"),
  );
}

type Edit = { op: " " | "-" | "+"; line: string };

/** The line edits from `a` to `b`, by longest common subsequence (the texts are short). */
function lineEdits(a: string[], b: string[]): Edit[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] =
        a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const edits: Edit[] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ op: " ", line: a[i++]! });
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Deletions first, as diff -u prints a changed line: "-old" then "+new".
      edits.push({ op: "-", line: a[i++]! });
    } else {
      edits.push({ op: "+", line: b[j++]! });
    }
  }
  return edits;
}

/**
 * A unified diff of two texts (`---`/`+++` headers, `@@` hunks with 3 lines of context), as
 * `diff -u` prints it.
 */
export function unifiedDiff(expected: string, actual: string, from: string, to: string): string {
  const edits = lineEdits(expected.split("\n"), actual.split("\n"));
  const changed = edits.flatMap((e, k) => (e.op === " " ? [] : [k]));
  const out = [`--- ${from}`, `+++ ${to}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - 3);
    let end = Math.min(edits.length, changed[k]! + 4);
    while (k + 1 < changed.length && changed[k + 1]! - 3 <= end) {
      k++;
      end = Math.min(edits.length, changed[k]! + 4);
    }
    k++;
    const hunk = edits.slice(start, end);
    const before = edits.slice(0, start);
    const oldStart = before.filter((e) => e.op !== "+").length + 1;
    const newStart = before.filter((e) => e.op !== "-").length + 1;
    const oldLen = hunk.filter((e) => e.op !== "+").length;
    const newLen = hunk.filter((e) => e.op !== "-").length;
    out.push(`@@ -${oldStart},${oldLen} +${newStart},${newLen} @@`);
    out.push(...hunk.map((e) => `${e.op}${e.line}`));
  }
  return out.join("\n");
}
