/**
 * Starting `enforce-local up` as a process of its own and waiting for its `ready.json`: what the
 * demo, jest's global setup and the suites that need a private environment all do.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../package-root";
import type { ReadyFile } from "./environment";
import { tail } from "./process";

/** The `enforce-local` bin of this repository. */
export function enforceLocalBin(): string {
  return path.join(packageRoot(), "local", "bin", "enforce-local.js");
}

/** Options of {@link launchEnvironment}. */
export interface LaunchOptions {
  /** The environment's directory; created when missing, a stale `ready.json` in it removed. */
  dir: string;
  /** Flags of `up` after `--dir DIR`, e.g. `["--clusters", "2"]`. */
  args?: string[];
  /** How long `up` may take to be ready (a first start builds the toolchain). */
  timeoutMs: number;
  /** Start `up` in its own process group and let it outlive this process (the demo's `--keep`). */
  detached?: boolean;
  /** How many lines of the end of the log an error shows. @default 40 */
  logLines?: number;
}

/** An `enforce-local up` process whose environment is ready. */
export interface LaunchedEnvironment {
  dir: string;
  /** The `up` process: SIGTERM stops the environment. */
  child: ChildProcess;
  /** Where `up`'s output goes: `DIR/up.log`. */
  log: string;
  ready: ReadyFile;
}

/**
 * Spawns `enforce-local up --dir DIR ...args`, its output appended to `DIR/up.log`, and resolves
 * once `DIR/ready.json` exists. Rejects with the end of the log when `up` exits first, or when it
 * is not ready in time (then `up` is sent SIGTERM, which stops whatever it had started).
 */
export async function launchEnvironment(opts: LaunchOptions): Promise<LaunchedEnvironment> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const readyPath = path.join(dir, "ready.json");
  fs.rmSync(readyPath, { force: true });
  const log = path.join(dir, "up.log");
  const out = fs.openSync(log, "a");
  const child = spawn(
    process.execPath,
    [enforceLocalBin(), "up", "--dir", dir, ...(opts.args ?? [])],
    { stdio: ["ignore", out, out], detached: opts.detached ?? false },
  );
  fs.closeSync(out);
  if (opts.detached) child.unref();
  const logEnd = () => tail(log, opts.logLines ?? 40);
  const deadline = Date.now() + opts.timeoutMs;
  while (!fs.existsSync(readyPath)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `enforce-local up exited with ${child.exitCode ?? child.signalCode}; its log: ${log}\n${logEnd()}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(
        `enforce-local up was not ready after ${Math.round(opts.timeoutMs / 1000)}s; its log: ${log}\n${logEnd()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const ready = JSON.parse(fs.readFileSync(readyPath, "utf8")) as ReadyFile;
  return { dir, child, log, ready };
}
