/**
 * The platform side of a local environment: the Enforce emulators and, per cluster, an agent
 * stand-in, started under the environment's supervisor (the `enforce` section of ready.json).
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EnvironmentContext } from "./control-plane/environment";
import { issueCA, issueCert } from "./control-plane/pki";
import { freePort } from "./control-plane/ports";
import { waitFor } from "./control-plane/wait";
import { tail } from "./control-plane/process";

/** How to reach one emulated platform. */
export interface EmulatorSection {
  apiUrl: string;
  issuerUrl: string;
  /**
   * With `--latency-ms`: the emulator's own URL, behind the proxy that `apiUrl` and `issuerUrl`
   * name (the emulator reports the proxy as its issuer, so tokens name it too).
   */
  directApiUrl?: string;
  /** The API token of the root group: a local test credential (ready.json is mode 0600). */
  token: string;
  /** CA that signed the emulator's TLS certificate. */
  caFile: string;
  /** The root group created at first start. */
  group: string;
  /** A child group of `group` ("team"), e.g. to move a cluster to. */
  teamGroup: string;
}

/** The `enforce` section of ready.json: how to reach the local platform. */
export interface EnforceSection extends EmulatorSection {
  /** Per cluster: the agent stand-in's status file and log. */
  agents: Array<{ cluster: string; statusFile: string; log: string }>;
  /**
   * Further platforms (`--emulators N`), each with its own CA, data and token: somewhere else
   * to point connections at, as a platform at another address would be.
   */
  others: EmulatorSection[];
}

export interface EnforceOptions {
  /** Cap on identity lifetime, e.g. "720h" (the platform's 30 days) or "60s" for tests. */
  identityMaxLifetime?: string;
  /** Whether to run an agent stand-in per cluster (default true). */
  agents?: boolean;
  /** How many emulated platforms to run (default 1). */
  emulators?: number;
  /** Start the emulators with `--fault-injection` (default false). */
  faultInjection?: boolean;
}

/** Where the compiled emulator and agent stand-in are (`dist/local`). */
const DIST = __dirname;

/**
 * Starts the Enforce emulator (or several, each a platform of its own) on loopback with its own
 * CA and TLS certificate, trusting each cluster's CA for issuer discovery, and then one agent
 * stand-in per cluster (local clusters have no nodes to run the real agent).
 */
export async function startEnforce(
  ctx: EnvironmentContext,
  opts: EnforceOptions = {},
): Promise<EnforceSection> {
  const count = opts.emulators ?? 1;
  const emulators: EmulatorSection[] = [];
  for (let i = 1; i <= count; i++) {
    // The same organisation at another address: the others share the first one's root group.
    const rootGroup = emulators[0]?.group;
    emulators.push(await startEmulator(ctx, i === 1 ? "enforce" : `enforce-${i}`, opts, rootGroup));
  }
  const [first, ...others] = emulators;
  if (!first) throw new Error(`--emulators must be at least 1, got ${count}`);
  const section: EnforceSection = { ...first, agents: [], others };
  const agentMain = path.join(DIST, "agent", "main.js");
  if (opts.agents !== false && fs.existsSync(agentMain)) {
    for (const c of ctx.clusters) {
      const info = c.info();
      const statusFile = path.join(c.dir, "agent-status.json");
      const agentLog = path.join(c.dir, "agent.log");
      ctx.sup.start(
        `${info.name}/agent`,
        process.execPath,
        // Only how to reach the API server and the bootstrap credential of a kubelet: where
        // the platform is, the agent learns from what the connection installed.
        [
          agentMain,
          `--kubeconfig=${info.agentKubeconfig}`,
          `--status-file=${statusFile}`,
          "--heartbeat-seconds=15",
        ],
        agentLog,
      );
      section.agents.push({ cluster: info.name, statusFile, log: agentLog });
    }
  }
  return section;
}

/**
 * With a latency proxy (`ctx.front`): the emulator is to listen on a port chosen here, behind a
 * proxy, and report the proxy's URL as its issuer, so its discovery document, its tokens and
 * what the agent is told all name the proxy. Adds those flags to `args` and returns the proxy's
 * URL. Without a proxy: nothing, the emulator picks its port.
 */
async function frontEmulator(ctx: EnvironmentContext, args: string[]): Promise<string | undefined> {
  if (!ctx.front) return undefined;
  const port = await freePort();
  const publicUrl = `https://127.0.0.1:${await ctx.front(port)}`;
  args.push(`--port=${port}`, `--public-url=${publicUrl}`);
  return publicUrl;
}

/** One emulator in `<env>/<name>`, with a CA of its own, trusting every cluster's CA. */
async function startEmulator(
  ctx: EnvironmentContext,
  name: string,
  opts: EnforceOptions,
  rootGroup: string | undefined,
): Promise<EmulatorSection> {
  const dir = path.join(ctx.dir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = (n: string) => path.join(dir, n);
  const ca = { cert: file("ca.crt"), key: file("ca.key") };
  await issueCA(ctx.tools.pki, ca, `Enforce emulator local CA (${name})`);
  await issueCert(
    ctx.tools.pki,
    ca,
    { cert: file("tls.crt"), key: file("tls.key") },
    {
      cn: "enforce-emulator",
      hosts: ["127.0.0.1", "localhost"],
      server: true,
    },
  );

  const args = [
    path.join(DIST, "emulator", "main.js"),
    `--data-dir=${file("data")}`,
    `--tls-cert=${file("tls.crt")}`,
    `--tls-key=${file("tls.key")}`,
    ...ctx.clusters.map((c) => `--trust-ca=${c.info().caFile}`),
  ];
  const publicUrl = await frontEmulator(ctx, args);
  if (opts.identityMaxLifetime) args.push(`--identity-max-lifetime=${opts.identityMaxLifetime}`);
  if (rootGroup) args.push(`--root-group=${rootGroup}`);
  if (opts.faultInjection) args.push("--fault-injection");
  const log = file("emulator.log");
  const m = ctx.sup.start(
    name === "enforce" ? "enforce-emulator" : name,
    process.execPath,
    args,
    log,
  );
  const started = await waitFor(
    `the Enforce emulator (${name}) to listen`,
    async () => {
      if (m.child.exitCode !== null) throw new Error(`the emulator exited:\n${tail(log)}`);
      const line = fs
        .readFileSync(log, "utf8")
        .split("\n")
        .find((l) => l.startsWith('{"url"'));
      return line
        ? (JSON.parse(line) as {
            url: string;
            rootGroup: string;
            teamGroup: string;
            tokenFile: string;
          })
        : undefined;
    },
    { timeoutMs: 60000 },
  );
  return {
    apiUrl: publicUrl ?? started.url,
    issuerUrl: publicUrl ?? started.url,
    ...(publicUrl && { directApiUrl: started.url }),
    token: fs.readFileSync(started.tokenFile, "utf8").trim(),
    caFile: ca.cert,
    group: started.rootGroup,
    teamGroup: started.teamGroup,
  };
}
