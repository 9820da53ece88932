/**
 * The machine a run measured on, and the memory an environment's processes hold.
 * @module
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { BenchEnv } from "./environment";
import { commandLine, execFileWithTimeout, statusKiB } from "./processes";

/** What the figures depend on besides the code. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  totalMemoryGiB: number;
  loadAverage: number[];
  node: string;
  pulumi: string;
  platform: string;
  date: string;
}

/** The machine, Node.js and the environment's Pulumi CLI. */
export async function machineInfo(pulumi: string): Promise<MachineInfo> {
  const version = await execFileWithTimeout(pulumi, ["version"], 60_000);
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "",
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    pulumi: version.trim(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** Resident memory of an environment's processes, in MiB, by kind. */
export interface EnvironmentMemory {
  apiServers: { count: number; totalMiB: number; perServerMiB: number[] };
  controllerManagersMiB: number;
  etcdMiB: number;
  /** Everything the environment started (agent stand-ins and emulator included) and `up` itself. */
  totalMiB: number;
}

/** Reads the RSS of every process the environment recorded in `pids.json`. */
export function environmentMemory(env: BenchEnv): EnvironmentMemory {
  const pids = JSON.parse(fs.readFileSync(path.join(env.dir, "pids.json"), "utf8")) as number[];
  const mib = (pid: number) => (statusKiB(pid, "VmRSS") ?? 0) / 1024;
  const exe = (pid: number) => path.basename(commandLine(pid).split(" ")[0] ?? "");
  const of = (name: string) => pids.filter((p) => exe(p) === name);
  const servers = of("kube-apiserver").map(mib);
  const sum = (xs: number[]) => Math.round(xs.reduce((s, x) => s + x, 0));
  return {
    apiServers: {
      count: servers.length,
      totalMiB: sum(servers),
      perServerMiB: servers.map((x) => Math.round(x)),
    },
    controllerManagersMiB: sum(of("kube-controller-manager").map(mib)),
    etcdMiB: sum(of("etcd").map(mib)),
    totalMiB: sum([...pids, env.child.pid ?? 0].map(mib)),
  };
}
