import {
  collapseRepeats,
  connectionPart,
  maskOutput,
  withoutUpdateRows,
  withoutWaitProgress,
} from "../support/cli-output";
import { unifiedDiff } from "../support/golden";

/**
 * The golden-output harness of tests/e2e/preview-golden.test.ts: what it cuts out of the CLI's
 * output, how it masks what varies, and the diff a mismatch shows.
 */

const REF = { type: "pulumi-nodejs:dynamic:EnforceClusterConnection", name: "private" };

const DIFF_STDOUT = [
  "Previewing update (ci):",
  "  pulumi:pulumi:Stack: (same)",
  "    [urn=urn:pulumi:ci::p::pulumi:pulumi:Stack::p-ci]",
  "    +-pulumi-nodejs:dynamic:EnforceClusterConnection: (replace)",
  "        [id=d1b4ebdf5309798ebb2dcfeb]",
  "        [urn=urn:pulumi:ci::p::pulumi-nodejs:dynamic:EnforceClusterConnection::private]",
  '      - clusterUid                : "2f914931-0dfa-4514-a169-7dca48f8b50a"',
  "      + observed                  : {",
  '          + agentNamespaceUid: "4670ffc1-c3b8-4bd2-95ab-e04be5ff2cd6"',
  "        }",
  "    + other:index:Thing: (create)",
  "        [urn=urn:pulumi:ci::p::other:index:Thing::x]",
  "Resources:",
  "    +-1 to replace",
  "    1 unchanged",
  "",
  "Duration: 3s",
  "",
].join("\n");

describe("connectionPart", () => {
  test("under --diff: the resource's block, the summary and stderr; not the stack or other resources", () => {
    const part = connectionPart(
      { args: ["preview", "--diff"], stdout: DIFF_STDOUT, stderr: "replace: why.\n" },
      REF,
    );
    expect(part.split("\n")).toEqual([
      "$ pulumi preview --diff",
      "Previewing update (ci):",
      ...DIFF_STDOUT.split("\n").slice(3, 10),
      "Resources:",
      "    +-1 to replace",
      "    1 unchanged",
      "--- stderr ---",
      "replace: why.",
      "",
    ]);
  });

  test("without --diff: the resource's rows and its own Diagnostics block, not the stack's", () => {
    const stdout = [
      "Previewing update (ci):",
      "@ previewing update....",
      "    pulumi:pulumi:Stack p-ci  1 warning",
      " +- pulumi-nodejs:dynamic:EnforceClusterConnection private replace [diff: ~observed]; why",
      "Diagnostics:",
      "  pulumi-nodejs:dynamic:EnforceClusterConnection (private):",
      "    replace: why.",
      "",
      "  pulumi:pulumi:Stack (p-ci):",
      "    warning: something about the CLI",
      "",
      "Resources:",
      "    +-1 to replace",
      "",
    ].join("\n");
    expect(connectionPart({ args: ["preview"], stdout, stderr: "" }, REF).split("\n")).toEqual([
      "$ pulumi preview",
      "Previewing update (ci):",
      " +- pulumi-nodejs:dynamic:EnforceClusterConnection private replace [diff: ~observed]; why",
      "Diagnostics:",
      "  pulumi-nodejs:dynamic:EnforceClusterConnection (private):",
      "    replace: why.",
      "Resources:",
      "    +-1 to replace",
      "",
    ]);
  });
});

describe("maskOutput", () => {
  test("known values read as their names; other ids are numbered by first appearance", () => {
    const text = [
      'clusterId: "de6e17be17c0b2ecf8480c6f05c2991f41019338/5aefc34c4be3876b"',
      'remoteId: "4670ffc1-c3b8-4bd2-95ab-e04be5ff2cd6" => "d90e6f23-f27a-4223-9e1a-5cf2d6ebaf6b"',
      'agentNamespaceUid: "4670ffc1-c3b8-4bd2-95ab-e04be5ff2cd6"',
      'issuer: "https://127.0.0.1:42505", renewAt: "2026-12-27T03:24:21Z"',
      "uploaded 38S7Za5P_b0ALq-PWtqzOWE2NSu4ILYhIWZATcspRXw, now lhKLTYRy0y_1LQH9MlcOS52WKw-gr10cbOCw1LvATQw",
      "creating replacement (0.07s), connection d1b4ebdf5309798ebb2dcfeb, renewAfter 20s, 2m",
      "caSha256: ca6b64974809198815a55ed8d39decb53e18cc6e46dc09e8d711cc7454e9988b",
    ].join("\n");
    const masked = maskOutput(text, [
      ["de6e17be17c0b2ecf8480c6f05c2991f41019338", "<group>"],
      ["127.0.0.1:42505", "127.0.0.1:<cluster-1-port>"],
      ["38S7Za5P_b0ALq-PWtqzOWE2NSu4ILYhIWZATcspRXw", "<cluster-1-kid-1>"],
    ]);
    expect(masked.split("\n")).toEqual([
      'clusterId: "<group>/<id-1>"',
      'remoteId: "<uid-1>" => "<uid-2>"',
      'agentNamespaceUid: "<uid-1>"',
      'issuer: "https://127.0.0.1:<cluster-1-port>", renewAt: "<time>"',
      "uploaded <cluster-1-kid-1>, now <kid-1>",
      "creating replacement (<duration>), connection <connection-1>, renewAfter 20s, 2m",
      "caSha256: <sha256>",
    ]);
  });

  test("collapseRepeats drops a line equal to the one before it", () => {
    expect(collapseRepeats("a (<duration>)\na (<duration>)\nb\na (<duration>)")).toBe(
      "a (<duration>)\nb\na (<duration>)",
    );
  });
});

describe("unifiedDiff", () => {
  test("shows changed lines as -/+ in a hunk with 3 lines of context", () => {
    const expected = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const actual = "1\n2\n3\n4\n5 changed\n6\n7\n8\n9\n";
    expect(unifiedDiff(expected, actual, "expected", "actual").split("\n")).toEqual([
      "--- expected",
      "+++ actual",
      "@@ -2,7 +2,7 @@",
      " 2",
      " 3",
      " 4",
      "-5",
      "+5 changed",
      " 6",
      " 7",
      " 8",
    ]);
  });

  test("withoutWaitProgress drops the registration wait's progress, whose count varies", () => {
    const rows = [
      " ++ conn creating replacement (<duration>); waiting for the agent to register",
      " ++ conn creating replacement (<duration>); still waiting for the agent (10s so far): Secret gulfstream/mcp-creds present",
      ' ++ conn creating replacement (<duration>); the agent registered cluster "private"',
    ];
    expect(withoutWaitProgress(rows.join("\n"))).toBe([rows[0], rows[2]].join("\n"));
  });

  test("withoutUpdateRows leaves out the rows of a running up, not what follows them", () => {
    const text = [
      "Updating (ci):",
      " ++ conn creating replacement (1s); taking over",
      " ++ conn creating replacement (1s); applying 27 agent objects",
      "    conn  replace: why",
      "Diagnostics:",
      "  conn:",
      "    taking over",
    ].join("\n");
    expect(withoutUpdateRows(text)).toBe(
      [
        "Updating (ci):",
        "(rows of the running update left out)",
        "Diagnostics:",
        "  conn:",
        "    taking over",
      ].join("\n"),
    );
    expect(withoutUpdateRows("Previewing update (ci):\n + conn create")).toBe(
      "Previewing update (ci):\n + conn create",
    );
  });
});
