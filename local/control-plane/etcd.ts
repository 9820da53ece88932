import * as path from "node:path";
import { freePort } from "./ports";
import { get } from "./probe";
import { Supervisor } from "./process";
import { waitFor } from "./wait";

/** Starts the one etcd that backs every local cluster (each under its own prefix). */
export async function startEtcd(sup: Supervisor, etcdBin: string, dir: string): Promise<string> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const m = sup.start(
    "etcd",
    etcdBin,
    [
      "--name=default",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--unsafe-no-fsync=true",
    ],
    path.join(dir, "etcd.log"),
  );
  await waitFor(
    "etcd to report healthy",
    async () => {
      if (m.child.exitCode !== null) throw new Error(`etcd exited; see ${m.logFile}`);
      const res = await get(`${client}/health`);
      return res.status === 200 && res.body.includes("true") ? true : undefined;
    },
    { timeoutMs: 60000 },
  );
  return client;
}
