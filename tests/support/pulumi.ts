import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { promisify } from "node:util";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, Stack, type EngineEvent } from "@pulumi/pulumi/automation";
import type { ReadyFile } from "../../local/control-plane/environment";
import { pulumiCliEnv } from "../../local/toolchain/pulumi-env";
import { repoRoot } from "./env";

/** A fixed passphrase: the file backend needs one to encrypt secrets in state. */
export const TEST_PASSPHRASE = "pulumi-enforce-tests";

export interface TestStack {
  stack: Stack;
  workDir: string;
  backendDir: string;
  /**
   * Where the CLI writes its log files (its TMPDIR): `pulumi.*.log.INFO.*` at `-v` 1 or more,
   * nothing at the default level.
   */
  logDir: string;
  events: EngineEvent[];
  /** Runs the CLI on this stack (`pulumi <args> --stack test`), resolving with its stdout. */
  cli(args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * An automation-API stack with an inline program, run by the CLI the local
 * environment built, against a `file://` backend in a temp dir. Nothing here
 * needs the network. The dynamic-provider plugin of @pulumi/pulumi is put on
 * PATH, and NODE_PATH lets the provider process (which runs in `workDir`)
 * resolve this repository's node_modules.
 */
export async function createTestStack(
  env: ReadyFile,
  projectName: string,
  program: () => Promise<Record<string, unknown> | void>,
  extraEnv: Record<string, string> = {},
): Promise<TestStack> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-${projectName}-`));
  const workDir = path.join(base, "work");
  const backendDir = path.join(base, "backend");
  const home = path.join(base, "home");
  const logDir = path.join(base, "engine-log");
  for (const d of [workDir, backendDir, home, logDir]) fs.mkdirSync(d, { recursive: true });

  const pulumiCommand = await PulumiCommand.get({
    root: path.dirname(path.dirname(env.tools.pulumi)),
  });
  const envVars: Record<string, string> = {
    ...pulumiCliEnv({
      backendDir,
      home,
      passphrase: TEST_PASSPHRASE,
      path: [env.tools.pulumiNodejsPluginDir, path.dirname(env.tools.pulumi)],
    }),
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
    NODE_PATH: path.join(repoRoot, "node_modules"),
    // The CLI writes its log files (glog's) to the temporary directory.
    TMPDIR: logDir,
    ...extraEnv,
  };
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "test", projectName, program },
    {
      workDir,
      pulumiCommand,
      envVars,
      projectSettings: {
        name: projectName,
        runtime: "nodejs",
        backend: { url: `file://${backendDir}` },
      },
    },
  );
  const events: EngineEvent[] = [];
  return {
    stack,
    workDir,
    backendDir,
    logDir,
    events,
    cli: async (args) => {
      const { stdout } = await promisify(execFile)(env.tools.pulumi, [...args, "--stack", "test"], {
        cwd: workDir,
        env: { ...process.env, ...envVars },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    },
    cleanup: async () => {
      try {
        await stack.workspace.removeStack("test", { force: true });
      } catch {
        // already gone
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The resource operations of engine events, as `type:op` for steps that did something. */
export function resourceOps(
  events: EngineEvent[],
): Array<{ urn: string; op: string; keys?: string[] }> {
  return events
    .filter((e) => e.resOutputsEvent || e.resourcePreEvent)
    .map((e) => (e.resourcePreEvent ?? e.resOutputsEvent)!.metadata)
    .filter((m) => m.type !== "pulumi:pulumi:Stack" && m.type !== "pulumi:providers:pulumi-nodejs")
    .map((m) => ({ urn: m.urn, op: m.op, keys: m.keys }));
}

/** What one engine run printed and the engine's events said. */
export interface EngineRun {
  ops: ReturnType<typeof resourceOps>;
  summary: unknown;
  stdout: string;
  /** What the CLI printed, stdout then stderr (`--diff` prints diagnostics on stderr). */
  output: string;
  events: EngineEvent[];
}

/**
 * Runs the engine on `t`; a preview is `preview --diff` unless `diff` is false. With
 * `logVerbosity`, the CLI runs with `-v=<logVerbosity> --logflow` and writes its log under
 * `t.logDir`.
 */
export async function runEngine(
  t: TestStack,
  what: "up" | "preview" | "refresh",
  diff = true,
  env: Record<string, string> = {},
  logVerbosity?: number,
): Promise<EngineRun> {
  const events: EngineEvent[] = [];
  const onEvent = (e: EngineEvent) => events.push(e);
  const log = logVerbosity === undefined ? {} : { logVerbosity, logFlow: true };
  // The automation API starts the CLI with this process's environment.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    if (what === "preview") {
      const r = await t.stack.preview({ onEvent, diff, ...log });
      const output = `${r.stdout}\n${r.stderr}`;
      return {
        ops: resourceOps(events),
        summary: r.changeSummary,
        stdout: r.stdout,
        output,
        events,
      };
    }
    const r =
      what === "up"
        ? await t.stack.up({ onEvent, ...log })
        : await t.stack.refresh({ onEvent, ...log });
    const output = `${r.stdout}\n${r.stderr}`;
    const summary = r.summary.resourceChanges;
    return { ops: resourceOps(events), summary, stdout: r.stdout, output, events };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The informational lines the provider logged with resource `urn` in a run. */
export function loggedWith(r: EngineRun, urn: string): string[] {
  return r.events
    .map((e) => e.diagnosticEvent)
    .filter((d) => d?.urn === urn && d.severity === "info")
    .map((d) => d!.message.trim());
}

/**
 * The sentences the provider logged with resource `urn` to explain its diff (see
 * provider/lifecycle/explain-diff.ts), each also checked to be in what the CLI printed.
 */
export function explained(r: EngineRun, urn: string): string[] {
  const said = loggedWith(r, urn).filter((m) => /^(replace|update in place): /.test(m));
  for (const sentence of said) expect(r.output).toContain(sentence);
  return said;
}

/** The operations on resource `urn` in a run, e.g. ["replace"]; steps that did nothing excluded. */
export function opsOn(ops: ReturnType<typeof resourceOps>, urn: string): string[] {
  return [...new Set(ops.filter((o) => o.urn === urn && o.op !== "same").map((o) => o.op))];
}
