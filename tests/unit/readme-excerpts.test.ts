import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The README shows real CLI output: every block marked `<!-- golden: <file> -->` must be a run of
 * consecutive lines of that expected-output file, which the e2e golden tests compare with what
 * the CLI prints. A change in the output then shows up as a stale README excerpt here.
 */

const root = path.join(__dirname, "..", "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

/** Each marked block: the golden file it quotes and its lines. */
function excerpts(text: string): Array<{ file: string; lines: string[] }> {
  const found: Array<{ file: string; lines: string[] }> = [];
  const marker = /<!-- golden: (\S+) -->\n+```[^\n]*\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(marker)) found.push({ file: m[1]!, lines: m[2]!.split("\n") });
  return found;
}

/** Whether `part` occurs in `whole` as consecutive lines. */
function containsRun(whole: string[], part: string[]): boolean {
  return whole.some((_, i) => part.every((line, j) => whole[i + j] === line));
}

describe("README excerpts of CLI output", () => {
  const blocks = excerpts(readme);

  test("the README quotes golden files", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  test.each(blocks.map((b, i) => [i + 1, b.file, b] as const))(
    "excerpt %i is in %s",
    (_i, file, block) => {
      const golden = fs.readFileSync(path.join(root, file), "utf8").split("\n");
      expect(containsRun(golden, block.lines) ? "found" : block.lines.join("\n")).toBe("found");
    },
  );

  test("an excerpt that differs from its file is caught", () => {
    const golden = ["a", "b", "c"];
    expect(containsRun(golden, ["b", "c"])).toBe(true);
    expect(containsRun(golden, ["a", "c"])).toBe(false);
    expect(excerpts("<!-- golden: x.txt -->\n\n```\none\ntwo\n```\n")).toEqual([
      { file: "x.txt", lines: ["one", "two"] },
    ]);
  });
});
