import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { enforceLocalBin, repoRoot } from "../support/env";
import { at } from "../support/fixture";

const run = promisify(execFile);

/** Runs printed commands as a user would paste them; a failure shows what they printed. */
async function sh(script: string): Promise<string> {
  try {
    const { stdout } = await run("sh", ["-c", `set -e\n${script}`], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 300_000,
    });
    return stdout;
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(
      `${(err as Error).message}\n--- stdout (end) ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-2000)}`,
    );
  }
}

/** Runs `npm run demo -- ARGS` (what the README tells a new user to run); resolves with its output. */
function demo(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [enforceLocalBin, "demo", ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/**
 * The main job, `npm run demo`: a local environment, `pulumi up` of the local example through the
 * real CLI and language host, a summary, a clean second preview, and a tear-down that leaves
 * nothing running; with `--keep`, instructions that work as printed.
 */
describe("npm run demo", () => {
  test("connects two clusters, summarises them, previews no changes and cleans up", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-demo-"));
    const { code, output } = await demo(["--dir", dir]);
    expect([code, output.slice(-3000)]).toEqual([0, expect.any(String)]);
    expect(output).toMatch(
      /Connected to Enforce:\n {2}cluster-1: public, cluster id [0-9a-f]{40}\/[0-9a-f]{16}/,
    );
    expect(output).toMatch(/cluster-2: private, cluster id [0-9a-f]{40}\/[0-9a-f]{16}/);
    expect(output).toMatch(/renewed after \d{4}-\d{2}-\d{2}T/);
    // Both opt-in namespaces were created by @pulumi/kubernetes after the connections.
    expect(output).toMatch(/kubernetes:core\/v1:Namespace +cluster-1-apps +created/);
    expect(output).toContain("preview: no changes");
    expect(output).toMatch(/Resources:\s+- 7 deleted/);
    // Nothing left behind: the directory is gone and so are the environment's processes.
    expect(fs.existsSync(dir)).toBe(false);
    const left = await run("pgrep", ["-f", dir]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
    expect(left).toBe("");
  }, 900_000);

  test("--keep leaves it running, with instructions that work as printed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-demo-keep-"));
    try {
      const { code, output } = await demo(["--dir", dir, "--keep"]);
      expect([code, output.slice(-3000)]).toEqual([0, expect.any(String)]);
      expect(output).toContain(`Left running in ${dir}`);
      const ready = JSON.parse(fs.readFileSync(path.join(dir, "ready.json"), "utf8")) as {
        clusters: { kubeconfig: string }[];
        tools: { kubectl: string };
      };
      // The printed kubectl line shows the opt-in namespace.
      const kubectlLine = output
        .split("\n")
        .find((l) => l.includes(at(ready.clusters, 0).kubeconfig))!;
      const { stdout: namespaces } = await run("sh", ["-c", kubectlLine.trim()]);
      expect(namespaces).toMatch(/apps\s+Active.*policy\.sigstore\.dev\/include=true/);
      // The printed Pulumi commands preview the stack: nothing to do.
      const lines = output.split("\n");
      const from = lines.findIndex((l) => l.includes("# the demo stack"));
      const script = lines
        .slice(from + 1)
        .filter((l) => /^\s+(cd|export|pulumi)\b/.test(l))
        .map((l) => l.trim())
        .join("\n");
      const preview = await sh(script);
      expect(preview).toMatch(/7 unchanged/);
      // And the printed way out.
      const destroyed = await sh(
        script.replace(
          /pulumi stack select demo && pulumi preview --diff/,
          "pulumi stack select demo && pulumi destroy --yes",
        ),
      );
      expect(destroyed).toMatch(/7 deleted/);
    } finally {
      await run(process.execPath, [enforceLocalBin, "down", "--dir", dir]).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
