import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { ensureToolchain, Toolchain } from "../toolchain/toolchain";
import { ClusterInfo, IssuerMode, LocalCluster } from "./cluster";
import { startEtcd } from "./etcd";
import { LatencyProxies, type Front } from "./latency-proxy";
import { Managed, Supervisor, tail } from "./process";

/** The contents of `DIR/ready.json`, written once every API server is ready. */
export interface ReadyFile {
  clusters: ClusterInfo[];
  tools: { kubectl: string; pulumi: string; pulumiNodejsPluginDir: string };
  pid: number;
  controlSocket: string;
  startedAt: string;
  /**
   * With `--latency-ms`: the delay each proxy adds to each direction. `apiServer`, `issuer`,
   * the kubeconfigs and the `enforce` URLs then name the proxies.
   */
  latencyMs?: number;
  [section: string]: unknown;
}

export interface UpOptions {
  dir: string;
  clusters: number;
  issuerModes?: Record<string, IssuerMode>;
  /**
   * Puts a latency proxy adding this many milliseconds each way in front of every API server
   * and emulator. @default none: no proxy at all
   */
  latencyMs?: number;
  progress: (line: string) => void;
  /** Extra sections for ready.json (the Enforce emulator adds its own). */
  extras?: (ctx: EnvironmentContext) => Promise<Record<string, unknown>>;
  /**
   * Aborted by a signal that arrived during start-up: `up` stops what it has
   * started at the next phase boundary and rejects, instead of writing ready.json.
   */
  signal?: AbortSignal;
}

/** What extensions of the environment (emulator, agents) get to work with. */
export interface EnvironmentContext {
  dir: string;
  sup: Supervisor;
  tools: Toolchain;
  clusters: LocalCluster[];
  /** With `latencyMs`: puts a latency proxy in front of a server that clients should reach. */
  front?: Front;
}

/** A running local environment; `stop()` ends every process it started. */
export interface RunningEnvironment {
  ready: ReadyFile;
  stop(): Promise<void>;
  /** Resolves when a process died unexpectedly, with what happened. */
  failed: Promise<string>;
}

const clusterName = (i: number): string => `cluster-${i}`;

/**
 * Starts etcd, then every cluster concurrently, then the extensions, writes
 * `ready.json` and serves the control socket `rotate-key` talks to. Data from a
 * previous run in `dir` is removed first: ports change on every start, so old
 * credentials and issuers would be wrong anyway.
 */
export async function up(opts: UpOptions): Promise<RunningEnvironment> {
  const dir = path.resolve(opts.dir);
  claimDir(dir);

  let reportFailure: (why: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => (reportFailure = resolve));
  const pidsFile = path.join(dir, "pids.json");
  const sup = new Supervisor((m: Managed, code) =>
    reportFailure(
      `${m.name} exited unexpectedly (code ${code}); last lines of ${m.logFile}:\n${tail(m.logFile)}`,
    ),
  );
  const recordPids = () => fs.writeFileSync(pidsFile, JSON.stringify(sup.pids()));
  let control: http.Server | undefined;
  const proxies = opts.latencyMs === undefined ? undefined : new LatencyProxies(opts.latencyMs);
  const front = proxies?.front;
  const stop = async () => {
    control?.close();
    await sup.stopAll();
    await proxies?.close();
    fs.rmSync(path.join(dir, "ready.json"), { force: true });
    fs.rmSync(path.join(dir, "control.sock"), { force: true });
    fs.rmSync(pidsFile, { force: true });
    fs.rmSync(path.join(dir, "up.pid"), { force: true });
  };

  const interrupted = () => {
    if (opts.signal?.aborted) throw new Error("start-up interrupted by a signal; stopped");
  };
  try {
    const tools = await ensureToolchain({ progress: opts.progress });
    interrupted();
    opts.progress("Starting etcd...");
    const etcdUrl = await startEtcd(sup, tools.etcd, dir);
    recordPids();
    interrupted();
    const clusters = await startClusters({ sup, tools, etcdUrl, dir, front }, opts, recordPids);
    interrupted();
    const extras = opts.extras ? await opts.extras({ dir, sup, tools, clusters, front }) : {};
    recordPids();
    interrupted();

    const controlSocket = path.join(dir, "control.sock");
    control = await serveControl(controlSocket, clusters, () => {
      ready.clusters = clusters.map((c) => c.info());
      writeReady(dir, ready);
    });
    const ready: ReadyFile = {
      clusters: clusters.map((c) => c.info()),
      tools: {
        kubectl: tools.kubectl,
        pulumi: tools.pulumi,
        pulumiNodejsPluginDir: tools.pulumiNodejsPluginDir,
      },
      ...extras,
      pid: process.pid,
      controlSocket,
      startedAt: new Date().toISOString(),
      ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    };
    writeReady(dir, ready);
    return { ready, stop, failed };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Makes `dir` this process's environment: refuses one that is running, removes what a previous
 * run left, and records this process's pid.
 */
function claimDir(dir: string): void {
  assertNotRunning(dir);
  fs.mkdirSync(dir, { recursive: true });
  for (const stale of ["clusters", "etcd", "ready.json", "control.sock", "pids.json"]) {
    fs.rmSync(path.join(dir, stale), { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(dir, "up.pid"), String(process.pid));
}

/** Starts `opts.clusters` clusters concurrently on the shared etcd; `started` runs after each. */
async function startClusters(
  on: { sup: Supervisor; tools: Toolchain; etcdUrl: string; dir: string; front?: Front },
  opts: UpOptions,
  started: () => void,
): Promise<LocalCluster[]> {
  const clusters = Array.from(
    { length: opts.clusters },
    (_, i) =>
      new LocalCluster(on.sup, on.tools, on.etcdUrl, on.dir, {
        name: clusterName(i + 1),
        issuerMode: opts.issuerModes?.[clusterName(i + 1)] ?? "apiserver",
        ...(on.front && { front: on.front }),
      }),
  );
  opts.progress(
    `Starting ${clusters.length} cluster(s): ${clusters.map((c) => c.opts.name).join(", ")}...`,
  );
  await Promise.all(clusters.map((c) => c.start().then(started)));
  return clusters;
}

function writeReady(dir: string, ready: ReadyFile): void {
  // Written whole then renamed, so a reader polling for it never sees half a file.
  const tmp = path.join(dir, "ready.json.tmp");
  fs.writeFileSync(tmp, JSON.stringify(ready, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, "ready.json"));
}

function assertNotRunning(dir: string): void {
  const pid = readPid(dir);
  if (pid !== undefined && pid !== process.pid && alive(pid)) {
    throw new Error(
      `an environment is already running in ${dir} (pid ${pid}); stop it with "enforce-local down --dir ${dir}" first`,
    );
  }
}

export function readPid(dir: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(path.join(dir, "up.pid"), "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The control socket. `POST /rotate-key {"cluster","keepOld"}` → `{"kid"}`;
 * `POST /stop-apiserver {"cluster"}` and `POST /start-apiserver {"cluster"}` → `{}` (an API
 * server outage on demand, for fault-injection tests).
 */
async function serveControl(
  socket: string,
  clusters: LocalCluster[],
  changed: () => void,
): Promise<http.Server> {
  const calls: Record<string, (c: LocalCluster, body: { keepOld?: boolean }) => Promise<unknown>> =
    {
      "/rotate-key": async (c, body) => {
        const kid = await c.rotateKey(!!body.keepOld);
        changed();
        return { kid };
      },
      "/stop-apiserver": async (c) => {
        await c.stopApiserver();
        return {};
      },
      "/start-apiserver": async (c) => {
        await c.restartApiserver();
        changed();
        return {};
      },
    };
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        try {
          const call = req.method === "POST" ? calls[req.url ?? ""] : undefined;
          if (!call) return reply(404, { error: "unknown call" });
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
            cluster?: string;
            keepOld?: boolean;
          };
          const c = clusters.find((x) => x.opts.name === body.cluster);
          if (!c) {
            return reply(404, {
              error: `no cluster named "${body.cluster}"; clusters: ${clusters.map((x) => x.opts.name).join(", ")}`,
            });
          }
          reply(200, await call(c, body));
        } catch (err) {
          reply(500, { error: (err as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(socket, () => resolve());
  });
  return srv;
}
