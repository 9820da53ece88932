import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";

/** One child process of the local environment, with its output in a log file. */
export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * Starts and stops the environment's processes. Each child gets its own log
 * file; `stopAll` sends SIGTERM, waits, then SIGKILLs what is left, so `down`
 * and a SIGTERM to `up` leave no process behind.
 */
export class Supervisor {
  private readonly procs = new Map<string, Managed>();
  private stopping = false;

  constructor(private readonly onUnexpectedExit: (m: Managed, code: number | null) => void) {}

  start(
    name: string,
    command: string,
    args: string[],
    logFile: string,
    env?: NodeJS.ProcessEnv,
  ): Managed {
    const out = fs.openSync(logFile, "a");
    const child = spawn(command, args, { stdio: ["ignore", out, out], env: env ?? process.env });
    fs.closeSync(out);
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once("error", () => resolve(127));
    });
    const m: Managed = { name, child, logFile, exited };
    this.procs.set(name, m);
    void exited.then((code) => {
      if (this.procs.get(name) === m) this.procs.delete(name);
      if (!this.stopping && !m.child.killed) this.onUnexpectedExit(m, code);
    });
    return m;
  }

  /** Stops one process (used for restarts); resolves once it has exited. */
  async stop(name: string, graceMs = 10000): Promise<void> {
    const m = this.procs.get(name);
    if (!m) return;
    this.procs.delete(name);
    await terminate(m, graceMs);
  }

  /** Stops every process, in reverse start order. */
  async stopAll(graceMs = 10000): Promise<void> {
    this.stopping = true;
    const all = [...this.procs.values()].reverse();
    this.procs.clear();
    // Dependants first (controller managers, API servers), etcd last.
    for (const m of all) await terminate(m, graceMs);
  }

  pids(): number[] {
    return [...this.procs.values()]
      .map((m) => m.child.pid)
      .filter((p): p is number => p !== undefined);
  }
}

async function terminate(m: Managed, graceMs: number): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  m.child.kill("SIGTERM");
  const timer = setTimeout(() => m.child.kill("SIGKILL"), graceMs);
  await m.exited;
  clearTimeout(timer);
}

/** The last lines of a log file, for error messages about a process that died. */
export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
