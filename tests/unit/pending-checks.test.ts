import { engineDiffsConcurrently } from "../../provider/lifecycle/pending-checks";

describe("whether the engine runs diffs concurrently", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["false", false],
    ["0", false],
    ["", false],
    [undefined, false],
  ])("PULUMI_PARALLEL_DIFF=%s: %s", (value, expected) => {
    expect(engineDiffsConcurrently({ PULUMI_PARALLEL_DIFF: value })).toBe(expected);
  });
});
