import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../support/env";

/**
 * The provider text Pulumi stores in state (`__provider`) for every EnforceClusterConnection:
 * serialized the way @pulumi/pulumi's dynamic Resource does it, from the compiled package users
 * install, then loaded the way the dynamic-provider host loads it (require-from-string, in a
 * process of its own).
 */

const run = promisify(execFile);
const DIST_DYNAMIC = path.join(repoRoot, "dist/provider/dynamic.js");
const DIST_IMPL = path.join(repoRoot, "dist/provider/impl.js");
const REQUIRE_FROM_STRING = require.resolve("require-from-string", {
  paths: [path.dirname(require.resolve("@pulumi/pulumi"))],
});

const FAKE_TOKEN = "enf-fake-platform-token-9d2c7b1a5e";
const UNKNOWN = pulumi.runtime.unknownValue as string;

let text: string;
let containsSecrets: boolean;

beforeAll(async () => {
  if (!fs.existsSync(DIST_DYNAMIC) || !fs.existsSync(DIST_IMPL)) {
    throw new Error(`${DIST_DYNAMIC} is missing: run "npm run build" first (npm test does)`);
  }
  // A configured implementation and a token in the environment: neither may reach the text.
  process.env.ENFORCE_TOKEN = FAKE_TOKEN;
  const { implementation } = require(DIST_IMPL);
  await implementation.configure({
    config: { get: (key: string) => (key === "enforce:token" ? FAKE_TOKEN : undefined) },
  });
  const { enforceProvider } = require(DIST_DYNAMIC);
  // Exactly what pulumi.dynamic.Resource does with its provider argument.
  const sf = await pulumi.runtime.serializeFunction(() => enforceProvider, { allowSecrets: true });
  text = sf.text;
  containsSecrets = sf.containsSecrets;
});
afterAll(() => {
  delete process.env.ENFORCE_TOKEN;
});

/** Runs `script` in a fresh node process in `cwd`, with the serialized provider in `PROVIDER`. */
async function inHost(providerText: string, cwd: string, script: string): Promise<unknown> {
  const file = path.join(cwd, "provider.txt");
  fs.writeFileSync(file, providerText);
  const program = `
    const provider = require(${JSON.stringify(REQUIRE_FROM_STRING)})(
      require("node:fs").readFileSync(${JSON.stringify(file)}, "utf8"),
    ).handler();
    (async () => { ${script} })().then(
      (r) => process.stdout.write(JSON.stringify(r)),
      (e) => process.stdout.write(JSON.stringify({ error: e.message })),
    );`;
  const env = { ...process.env };
  delete env.NODE_PATH;
  const { stdout } = await run(process.execPath, ["-e", program], { cwd, env });
  return JSON.parse(stdout);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "provider-host-"));
}

describe("the serialized provider", () => {
  test("is small and captures no credential", () => {
    // Measured: 2,790 characters (five forwarding methods and the loader).
    expect(text.length).toBeLessThan(4096);
    expect(containsSecrets).toBe(false);
    expect(text).not.toContain(FAKE_TOKEN);
    expect(text).not.toMatch(/BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/);
    expect(text).not.toMatch(/(client-key-data|certificate-authority-data|token:)/);
    // Nothing from the implementation is copied: it is loaded at run time.
    expect(text).not.toContain("validateInputs");
    expect(text).not.toContain("checkCluster");
    expect(text).toContain('"pulumi-enforce/dist/provider/impl.js"');
    expect(text).toContain(JSON.stringify(DIST_IMPL));
  });

  test("loads the implementation from the absolute path when the package does not resolve", async () => {
    const cwd = tempDir();
    try {
      const result = await inHost(
        text,
        cwd,
        `return provider.check({}, { resourceName: "conn", kubeconfig: ${JSON.stringify(UNKNOWN)}, group: "not-a-uidp", __provider: "x" });`,
      );
      expect(result).toMatchObject({
        failures: [{ property: "group", reason: expect.stringContaining("UIDP") }],
      });
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("prefers the installed package, resolved from the program's directory", async () => {
    const cwd = tempDir();
    try {
      const fake = path.join(cwd, "node_modules/pulumi-enforce/dist/provider");
      fs.mkdirSync(fake, { recursive: true });
      fs.writeFileSync(
        path.join(fake, "impl.js"),
        `exports.implementation = { check: async () => ({ inputs: { from: "package" } }) };`,
      );
      expect(await inHost(text, cwd, "return provider.check({}, {});")).toEqual({
        inputs: { from: "package" },
      });
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("says what to do when neither resolves", async () => {
    const cwd = tempDir();
    try {
      const moved = text
        .split(JSON.stringify(DIST_IMPL))
        .join(JSON.stringify("/nonexistent/impl.js"));
      const result = (await inHost(moved, cwd, "return provider.check({}, {});")) as {
        error: string;
      };
      expect(result.error).toContain("cannot load its provider");
      expect(result.error).toContain("npm install pulumi-enforce");
      expect(result.error).toContain(cwd);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("forwards every operation, with all its arguments, to the implementation", async () => {
    const cwd = tempDir();
    try {
      const fake = path.join(cwd, "node_modules/pulumi-enforce/dist/provider");
      fs.mkdirSync(fake, { recursive: true });
      const ops = ["configure", "check", "diff", "create", "read", "update", "delete"];
      fs.writeFileSync(
        path.join(fake, "impl.js"),
        `exports.implementation = Object.fromEntries(${JSON.stringify(ops)}.map(
           (op) => [op, async (...args) => ({ op, args })]));`,
      );
      const result = await inHost(
        text,
        cwd,
        `return Promise.all([
           provider.configure({ config: 1 }),
           provider.check({ o: 1 }, { n: 2 }),
           provider.diff("id", { o: 1 }, { n: 2 }),
           provider.create({ n: 2 }),
           provider.read("id", { p: 3 }),
           provider.update("id", { o: 1 }, { n: 2 }),
           provider.delete("id", { p: 3 }),
         ]);`,
      );
      expect(result).toEqual([
        { op: "configure", args: [{ config: 1 }] },
        { op: "check", args: [{ o: 1 }, { n: 2 }] },
        { op: "diff", args: ["id", { o: 1 }, { n: 2 }] },
        { op: "create", args: [{ n: 2 }] },
        { op: "read", args: ["id", { p: 3 }] },
        { op: "update", args: ["id", { o: 1 }, { n: 2 }] },
        { op: "delete", args: ["id", { p: 3 }] },
      ]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
