import { matchesLabelSelector } from "../../provider/kube/label-selector";

describe("matchesLabelSelector, as the API server evaluates a webhook's namespaceSelector", () => {
  const included = { "policy.sigstore.dev/include": "true", team: "a" };

  test("an absent or empty selector selects every namespace", () => {
    expect(matchesLabelSelector(undefined, {})).toBe(true);
    expect(matchesLabelSelector({}, included)).toBe(true);
  });

  test("matchLabels needs each label with that value", () => {
    expect(matchesLabelSelector({ matchLabels: { team: "a" } }, included)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { team: "b" } }, included)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { team: "a", env: "x" } }, included)).toBe(false);
  });

  test.each([
    // The enforcer's opt-in selector.
    ["In", "policy.sigstore.dev/include", ["true"], included, true],
    ["In", "policy.sigstore.dev/include", ["true"], {}, false],
    // Its opt-out selector: a namespace without the label is selected.
    ["NotIn", "policy.sigstore.dev/exclude", ["true"], {}, true],
    [
      "NotIn",
      "policy.sigstore.dev/exclude",
      ["true"],
      { "policy.sigstore.dev/exclude": "true" },
      false,
    ],
    ["Exists", "team", undefined, included, true],
    ["Exists", "env", undefined, included, false],
    ["DoesNotExist", "env", undefined, included, true],
    ["DoesNotExist", "team", undefined, included, false],
    ["Unknown", "team", ["a"], included, false],
  ])("%s %s %j on %j: %s", (operator, key, values, labels, expected) => {
    const selector = { matchExpressions: [{ key, operator, values }] };
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  test("matchLabels and every expression must hold together", () => {
    const selector = {
      matchLabels: { team: "a" },
      matchExpressions: [{ key: "policy.sigstore.dev/include", operator: "In", values: ["true"] }],
    };
    expect(matchesLabelSelector(selector, included)).toBe(true);
    expect(matchesLabelSelector(selector, { team: "a" })).toBe(false);
  });
});
