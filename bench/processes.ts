/**
 * Processes the benchmark runs or watches: a command with a deadline, and the resident memory
 * of processes read from `/proc` (Linux).
 * @module
 */

import { execFile } from "node:child_process";
import * as fs from "node:fs";

/** Runs `file args`, killed after `timeoutMs`; resolves with stdout, rejects with stderr. */
export function execFileWithTimeout(
  file: string,
  args: string[],
  timeoutMs: number,
  cwd?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20, cwd },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const why = err.killed ? `killed after ${timeoutMs / 1000}s` : `exit ${String(err.code)}`;
        reject(new Error(`${file} ${args.join(" ")} failed (${why}):\n${stderr}`));
      },
    );
  });
}

/** A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`), undefined once the process is gone. */
export function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A process's command line, "" once it is gone. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** The pids of every process whose working directory is `dir`. */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/cwd`) === dir) pids.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return pids;
}

/**
 * Watches the processes `match` picks among those working in `dir` while `work` runs, and
 * resolves with `work`'s result and the highest peak RSS (VmHWM) any of them reached, in MiB.
 */
export async function peakRssDuring<T>(
  dir: string,
  match: (cmdline: string) => boolean,
  work: () => Promise<T>,
): Promise<{ value: T; peakMiB: number; pids: number[] }> {
  const peaks = new Map<number, number>();
  const poll = () => {
    for (const pid of processesIn(dir)) {
      if (!match(commandLine(pid))) continue;
      const hwm = statusKiB(pid, "VmHWM");
      if (hwm !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, hwm));
    }
  };
  const timer = setInterval(poll, 100);
  try {
    const value = await work();
    return { value, peakMiB: Math.max(0, ...peaks.values()) / 1024, pids: [...peaks.keys()] };
  } finally {
    clearInterval(timer);
  }
}
