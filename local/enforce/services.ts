import * as fs from "node:fs";
import * as path from "node:path";
import type { EnvironmentContext } from "../control-plane/environment";
import { issueCA, issueCert } from "../control-plane/pki";
import { waitFor } from "../control-plane/wait";
import { tail } from "../control-plane/process";

/** The `enforce` section of ready.json: how to reach the local platform. */
export interface EnforceSection {
  apiUrl: string;
  issuerUrl: string;
  /** The API token of the root group: a local test credential (ready.json is mode 0600). */
  token: string;
  /** CA that signed the emulator's TLS certificate. */
  caFile: string;
  /** The root group created at first start. */
  group: string;
  /** A child group of `group` ("team"), e.g. to move a cluster to. */
  teamGroup: string;
  /** Per cluster: the agent stand-in's status file and log. */
  agents: Array<{ cluster: string; statusFile: string; log: string }>;
}

export interface EnforceOptions {
  /** Cap on identity lifetime, e.g. "720h" (the platform's 30 days) or "60s" for tests. */
  identityMaxLifetime?: string;
  /** Whether to run an agent stand-in per cluster (default true). */
  agents?: boolean;
}

/**
 * Starts the Enforce emulator on loopback with its own CA and TLS certificate,
 * trusting each cluster's CA for issuer discovery, and then one agent
 * stand-in per cluster (local clusters have no nodes to run the real agent).
 */
export async function startEnforce(
  ctx: EnvironmentContext,
  opts: EnforceOptions = {},
): Promise<EnforceSection> {
  const dir = path.join(ctx.dir, "enforce");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = (n: string) => path.join(dir, n);
  const ca = { cert: file("ca.crt"), key: file("ca.key") };
  await issueCA(ctx.tools.pki, ca, "Enforce emulator local CA");
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

  const dist = path.resolve(__dirname, "..");
  const args = [
    path.join(dist, "emulator", "main.js"),
    `--data-dir=${file("data")}`,
    `--tls-cert=${file("tls.crt")}`,
    `--tls-key=${file("tls.key")}`,
    ...ctx.clusters.map((c) => `--trust-ca=${c.info().caFile}`),
  ];
  if (opts.identityMaxLifetime) args.push(`--identity-max-lifetime=${opts.identityMaxLifetime}`);
  const log = file("emulator.log");
  const m = ctx.sup.start("enforce-emulator", process.execPath, args, log);
  const started = await waitFor(
    "the Enforce emulator to listen",
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
  const section: EnforceSection = {
    apiUrl: started.url,
    issuerUrl: started.url,
    token: fs.readFileSync(started.tokenFile, "utf8").trim(),
    caFile: ca.cert,
    group: started.rootGroup,
    teamGroup: started.teamGroup,
    agents: [],
  };

  const agentMain = path.join(dist, "agent", "main.js");
  if (opts.agents !== false && fs.existsSync(agentMain)) {
    for (const c of ctx.clusters) {
      const info = c.info();
      const statusFile = path.join(c.dir, "agent-status.json");
      const agentLog = path.join(c.dir, "agent.log");
      ctx.sup.start(
        `${info.name}/agent`,
        process.execPath,
        [
          agentMain,
          `--kubeconfig=${info.kubeconfig}`,
          `--issuer-url=${section.issuerUrl}`,
          `--issuer-ca-file=${ca.cert}`,
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
