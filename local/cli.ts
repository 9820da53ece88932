import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { IssuerMode } from "./control-plane/cluster";
import { callControl } from "./control-plane/control-client";
import { alive, readPid, up } from "./control-plane/environment";
import { runDemo } from "./demo";
import { startEnforce } from "./platform-services";
import { ensureToolchain } from "./toolchain/toolchain";

const USAGE = `usage: enforce-local <command> [flags]

commands:
  up --dir DIR [--clusters N] [--issuer-mode NAME=MODE ...]
     [--identity-max-lifetime DURATION] [--no-agents] [--emulators M]
     [--latency-ms MS] [--fault-injection]
      start N local clusters (default 1), the Enforce emulator and one agent
      stand-in per cluster, and run in the foreground until SIGINT/SIGTERM;
      DIR/ready.json appears once everything is ready.
      MODE is apiserver (default), cluster-local (private, like kind) or
      disabled (no issuer discovery: a misconfigured cluster).
      DURATION caps the emulator's identity lifetime (default 720h).
      M emulators (default 1) are M platforms, each with its own URL, CA and
      token, all serving the same root group id: ready.json's enforce.others
      lists all but the first.
      A stand-in learns where the platform is only from what a connection
      installed in its cluster, and acts with a kubelet's bootstrap
      credential (the cluster's agentKubeconfig) and the agent's own tokens.
      MS (0 to 10000) puts a loopback TCP proxy in front of each API server
      and emulator that delays each direction by MS milliseconds: ready.json,
      the kubeconfigs and the issuers then name the proxies.
      --fault-injection lets tests make the emulators' calls fail (500, 503,
      429 with Retry-After, dropped connections) through
      /_emulator/v1/faults (docs/platform-api.md); no fault until one is set.
  down --dir DIR
      stop the environment running in DIR and every process it started.
  rotate-key --dir DIR --cluster NAME [--keep-old]
      rotate that cluster's service-account signing key.
  apiserver stop|start --dir DIR --cluster NAME
      stop that cluster's API server (an outage, to see how clients cope) or
      start it again on the same port.
  demo [--dir DIR] [--keep]
      start two clusters and the emulator, pulumi up the local example,
      summarise, preview (no changes), tear down; --keep leaves it running.
      DIR defaults to .local-demo.
  build
      build (or find in the cache) the Go toolchain, printing where it is.
`;

class UsageError extends Error {}

/** Entry point of the `enforce-local` bin; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "up":
        return await cmdUp(rest);
      case "down":
        return await cmdDown(rest);
      case "rotate-key":
        return await cmdRotate(rest);
      case "apiserver":
        return await cmdApiserver(rest);
      case "build":
        return await cmdBuild();
      case "demo":
        return await cmdDemo(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      process.stderr.write(`enforce-local: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`enforce-local: ${(err as Error).message}\n`);
    return 1;
  }
}

const progress = (line: string) => process.stderr.write(line + "\n");

/** The control socket of the environment running in `dir`. */
function controlSocket(dir: string): string {
  const socket = path.join(dir, "control.sock");
  if (!fs.existsSync(socket)) {
    throw new Error(
      `no environment is running in ${dir}: start one with "enforce-local up --dir ${dir}"`,
    );
  }
  return socket;
}

function requireDir(dir: string | undefined): string {
  if (!dir) throw new UsageError("--dir is required");
  return path.resolve(dir);
}

/** The flags of `up`, checked. */
interface UpArgs {
  dir: string;
  clusters: number;
  emulators: number;
  issuerModes: Record<string, IssuerMode>;
  identityMaxLifetime: string | undefined;
  agents: boolean;
  latencyMs: number | undefined;
  faultInjection: boolean;
}

function parseUpArgs(args: string[]): UpArgs {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      clusters: { type: "string", default: "1" },
      "issuer-mode": { type: "string", multiple: true },
      "identity-max-lifetime": { type: "string" },
      "no-agents": { type: "boolean", default: false },
      emulators: { type: "string", default: "1" },
      "latency-ms": { type: "string" },
      "fault-injection": { type: "boolean", default: false },
    },
  });
  const dir = requireDir(values.dir);
  const n = Number(values.clusters);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new UsageError("--clusters must be a whole number from 1 to 16");
  const emulators = Number(values.emulators);
  if (!Number.isInteger(emulators) || emulators < 1 || emulators > 4)
    throw new UsageError("--emulators must be a whole number from 1 to 4");
  const issuerModes: Record<string, IssuerMode> = {};
  for (const spec of values["issuer-mode"] ?? []) {
    const [, name, mode] = /^([\w-]+)=(apiserver|cluster-local|disabled)$/.exec(spec) ?? [];
    if (!name || !mode)
      throw new UsageError(
        `--issuer-mode "${spec}": expected NAME=apiserver|cluster-local|disabled`,
      );
    issuerModes[name] = mode as IssuerMode;
  }
  return {
    dir,
    clusters: n,
    emulators,
    issuerModes,
    identityMaxLifetime: values["identity-max-lifetime"],
    agents: !values["no-agents"],
    latencyMs: parseLatency(values["latency-ms"]),
    faultInjection: values["fault-injection"] ?? false,
  };
}

function parseLatency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(ms <= 10000)) {
    throw new UsageError(
      `--latency-ms must be a whole number of milliseconds from 0 to 10000, got "${text}"`,
    );
  }
  return ms;
}

/**
 * Listens for SIGINT and SIGTERM: `interrupt` aborts on the first, `signalled` resolves with its
 * name.
 */
function onInterrupt(): { interrupt: AbortController; signalled: Promise<string> } {
  const interrupt = new AbortController();
  const signalled = new Promise<string>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      if (!interrupt.signal.aborted) progress(`Received ${s}, stopping...`);
      interrupt.abort();
      resolve(s);
    };
    process.once("SIGINT", on);
    process.once("SIGTERM", on);
  });
  return { interrupt, signalled };
}

async function cmdUp(args: string[]): Promise<number> {
  const upArgs = parseUpArgs(args);
  const { dir, clusters, emulators, issuerModes, identityMaxLifetime, agents, latencyMs } = upArgs;
  // Listen before anything starts: a signal during start-up (or just after
  // ready.json appears) must stop what was started, not kill this process and
  // leave etcd and the API servers running.
  const { interrupt, signalled } = onInterrupt();
  const env = await up({
    dir,
    clusters,
    issuerModes,
    latencyMs,
    progress,
    signal: interrupt.signal,
    extras: async (ctx) => {
      progress("Starting the Enforce emulator and agent stand-ins...");
      const enforce = await startEnforce(ctx, {
        identityMaxLifetime,
        agents,
        emulators,
        faultInjection: upArgs.faultInjection,
      });
      return { enforce };
    },
  });
  progress(`Ready: ${path.join(dir, "ready.json")}`);
  for (const c of env.ready.clusters) {
    progress(`  ${c.name}: ${c.apiServer}  kubectl --kubeconfig ${c.kubeconfig} get ns`);
  }
  if (latencyMs !== undefined) {
    progress(
      `Every API server and emulator URL above goes through a proxy adding ${latencyMs} ms each way.`,
    );
  }
  progress(`Stop with Ctrl-C or "enforce-local down --dir ${dir}".`);

  const outcome = await Promise.race([
    signalled.then((s) => ({ signal: s })),
    env.failed.then((f) => ({ failure: f })),
  ]);
  if ("failure" in outcome) progress(`enforce-local: ${outcome.failure}\nStopping everything.`);
  await env.stop();
  progress("Stopped.");
  return "failure" in outcome ? 1 : 0;
}

async function cmdDown(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { dir: { type: "string" } } });
  const dir = requireDir(values.dir);
  const pid = readPid(dir);
  const children = readChildPids(dir);
  if (pid === undefined || !alive(pid)) {
    // The up process is gone; still make sure nothing it started lingers.
    const killed = children.filter(alive);
    killed.forEach((p) => process.kill(p, "SIGKILL"));
    progress(
      killed.length
        ? `Killed ${killed.length} leftover process(es).`
        : `Nothing is running in ${dir}.`,
    );
    return 0;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 60000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (alive(pid)) process.kill(pid, "SIGKILL");
  for (const p of children) if (alive(p)) process.kill(p, "SIGKILL");
  progress("Stopped.");
  return 0;
}

function readChildPids(dir: string): number[] {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "pids.json"), "utf8")) as number[];
  } catch {
    return [];
  }
}

async function cmdRotate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      cluster: { type: "string" },
      "keep-old": { type: "boolean", default: false },
    },
  });
  const dir = requireDir(values.dir);
  if (!values.cluster) throw new UsageError("--cluster is required");
  const socket = controlSocket(dir);
  const answer = await callControl(socket, "/rotate-key", {
    cluster: values.cluster,
    keepOld: values["keep-old"],
  });
  process.stdout.write(`${answer.kid}\n`);
  return 0;
}

async function cmdApiserver(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { dir: { type: "string" }, cluster: { type: "string" } },
  });
  const action = positionals[0];
  if (action !== "stop" && action !== "start") {
    throw new UsageError('apiserver needs "stop" or "start"');
  }
  const dir = requireDir(values.dir);
  if (!values.cluster) throw new UsageError("--cluster is required");
  const socket = controlSocket(dir);
  await callControl(socket, `/${action}-apiserver`, { cluster: values.cluster });
  return 0;
}

async function cmdDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { dir: { type: "string" }, keep: { type: "boolean", default: false } },
  });
  return runDemo({
    dir: values.dir ?? ".local-demo",
    keep: values.keep ?? false,
    progress,
    output: (text) => process.stdout.write(text),
  });
}

async function cmdBuild(): Promise<number> {
  const tools = await ensureToolchain({ progress });
  process.stdout.write(JSON.stringify(tools, null, 2) + "\n");
  return 0;
}
