/**
 * `enforce-local demo`: the main job of a fresh checkout. Starts a local environment (two
 * clusters, the Enforce emulator, agent stand-ins), runs `pulumi up` on the local example
 * against it, prints what got connected, shows that a second preview has nothing to do, and tears
 * everything down, or, with `--keep`, leaves it running and says how to use it.
 * @module
 */

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import type { ReadyFile } from "./control-plane/environment";
import { enforceLocalBin, launchEnvironment } from "./control-plane/launch";
import type { EnforceSection } from "./platform-services";
import { pulumiCliEnv } from "./toolchain/pulumi-env";
import { ensureToolchain, installPulumiPlugins, type Toolchain } from "./toolchain/toolchain";
import { packageRoot } from "./package-root";

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the environment and the demo stack's state live. */
  dir: string;
  /** Leave everything running at the end. */
  keep: boolean;
  /** Human-readable progress. */
  progress: (line: string) => void;
  /** Pulumi's own output, streamed. */
  output: (text: string) => void;
}

const EXAMPLE_DIR = path.join(packageRoot(), "examples", "local");
const ENFORCE_LOCAL = enforceLocalBin();
/** The demo stack's passphrase: it encrypts secrets in a state file that exists only locally. */
const DEMO_PASSPHRASE = "enforce-local-demo";
const STACK = "demo";

/** Runs the demo; resolves with the exit code. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const { progress } = opts;
  const dir = path.resolve(opts.dir);
  progress("Building the local toolchain, or finding it in the cache...");
  const tools = await ensureToolchain({ progress });

  progress(`Starting two local clusters and the Enforce emulator in ${dir} ...`);
  const env = await startEnvironment(dir);
  let stack: Stack | undefined;
  let ok = false;
  try {
    stack = await demoStack(dir, tools, env.ready);
    progress("pulumi up: connecting both clusters to Enforce");
    await stack.up({ onOutput: opts.output, color: "never" });
    const outputs = (await stack.outputs()).clusters?.value as Record<string, ClusterSummary>;
    progress("");
    progress(summary(outputs));
    progress("");
    progress("pulumi preview: checking that a second run has nothing to do");
    const preview = await stack.preview({ color: "never" });
    const changes = Object.entries(preview.changeSummary).filter(([op]) => op !== "same");
    if (changes.length > 0) {
      throw new Error(`the second preview wants changes: ${JSON.stringify(preview.changeSummary)}`);
    }
    progress(`preview: no changes (${preview.changeSummary.same ?? 0} resources unchanged)`);
    ok = true;
  } finally {
    if (opts.keep && ok) {
      progress("");
      progress(keepInstructions(dir, tools, env.ready));
    } else {
      if (stack) {
        progress("pulumi destroy: disconnecting both clusters");
        await stack.destroy({ onOutput: opts.output, color: "never" }).catch((err: Error) => {
          progress(`pulumi destroy failed: ${err.message}`);
        });
        await stack.workspace.removeStack(STACK).catch(() => undefined);
        // The stack's settings file (git-ignored) names this run's directory: not worth keeping.
        fs.rmSync(path.join(EXAMPLE_DIR, `Pulumi.${STACK}.yaml`), { force: true });
      }
      progress("Stopping the local environment...");
      await env.stop();
      if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return 0;
}

interface ClusterSummary {
  clusterId: string;
  connectivity: string;
  issuer: string;
  registeredAt: string;
  renewAt: string;
}

/** One line per cluster, readable at a glance. */
function summary(clusters: Record<string, ClusterSummary>): string {
  const lines = ["Connected to Enforce:"];
  for (const [name, c] of Object.entries(clusters)) {
    const renewal =
      c.connectivity === "private"
        ? `keys uploaded; renewed after ${c.renewAt} (run pulumi up by then)`
        : "Enforce reads its issuer's keys itself; nothing to renew";
    lines.push(`  ${name}: ${c.connectivity}, cluster id ${c.clusterId}`);
    lines.push(`    issuer ${c.issuer}; ${renewal}`);
  }
  return lines.join("\n");
}

interface RunningEnvironment {
  ready: ReadyFile;
  stop(): Promise<void>;
}

/**
 * Starts `enforce-local up` as its own process, so that with `--keep` it outlives the demo;
 * `stop` runs `enforce-local down`.
 */
async function startEnvironment(dir: string): Promise<RunningEnvironment> {
  const { ready } = await launchEnvironment({
    dir,
    args: ["--clusters", "2"],
    timeoutMs: 10 * 60_000,
    detached: true,
    logLines: 15,
  });
  return {
    ready,
    stop: async () => {
      await new Promise<void>((resolve) => {
        const down = spawn(process.execPath, [ENFORCE_LOCAL, "down", "--dir", dir], {
          stdio: "ignore",
        });
        down.on("exit", () => resolve());
        down.on("error", () => resolve());
      });
    },
  };
}

/** Environment variables for the CLI: local state, the demo passphrase, our plugins only. */
function demoEnv(dir: string, tools: Toolchain): ReturnType<typeof pulumiCliEnv> {
  return pulumiCliEnv({
    backendDir: path.join(dir, "pulumi-state"),
    home: path.join(dir, "pulumi-home"),
    passphrase: DEMO_PASSPHRASE,
    path: tools.pulumiPluginPath,
  });
}

/** The local example as a directory program, its stack configured for the environment. */
async function demoStack(dir: string, tools: Toolchain, ready: ReadyFile): Promise<Stack> {
  const stateDir = path.join(dir, "pulumi-state");
  fs.mkdirSync(stateDir, { recursive: true });
  installPulumiPlugins(tools, demoEnv(dir, tools).PULUMI_HOME);
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(path.dirname(tools.pulumi)) });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: STACK, workDir: EXAMPLE_DIR },
    { pulumiCommand, envVars: demoEnv(dir, tools) },
  );
  const enforce = ready.enforce as EnforceSection;
  await stack.setAllConfig({
    "enforce-local:localEnvDir": { value: dir },
    "enforce:apiUrl": { value: enforce.apiUrl },
    "enforce:issuerUrl": { value: enforce.issuerUrl },
    "enforce:caFile": { value: enforce.caFile },
    "enforce:token": { value: enforce.token, secret: true },
  });
  return stack;
}

function keepInstructions(dir: string, tools: Toolchain, ready: ReadyFile): string {
  const env = demoEnv(dir, tools);
  const lines = [
    `Left running in ${dir}. To look around:`,
    "",
    ...ready.clusters.map(
      (c) => `  ${tools.kubectl} --kubeconfig ${c.kubeconfig} get namespaces --show-labels`,
    ),
    "",
    "  # the demo stack, with the Pulumi CLI the demo used:",
    `  cd ${EXAMPLE_DIR}`,
    `  export PULUMI_BACKEND_URL=${env.PULUMI_BACKEND_URL} PULUMI_CONFIG_PASSPHRASE=${env.PULUMI_CONFIG_PASSPHRASE}`,
    `  export PULUMI_HOME=${env.PULUMI_HOME} PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true`,
    `  export PATH=${tools.pulumiPluginPath.join(path.delimiter)}:$PATH`,
    `  pulumi stack select ${STACK} && pulumi preview --diff`,
    "",
    `  # try a key rotation: the next preview proposes replacing cluster-2's connection`,
    `  node ${ENFORCE_LOCAL} rotate-key --dir ${dir} --cluster cluster-2`,
    "",
    `When done: pulumi destroy --yes, then node ${ENFORCE_LOCAL} down --dir ${dir}`,
  ];
  return lines.join("\n");
}
