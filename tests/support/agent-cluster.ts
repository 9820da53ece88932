/**
 * Running the agent stand-in against a real local cluster, on what a connection installs only:
 * the agent's objects as `agentObjects` renders them (./agent-install.ts), the cluster's
 * bootstrap credential of a kubelet (ClusterInfo.agentKubeconfig), and nothing else. The
 * operations on the cluster a test needs around it, and waiting on what the agent reports.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runAgent, readStatusFile, type AgentStatus } from "../../local/agent/agent";
import type { ReadyFile } from "../../local/control-plane/environment";
import type { AgentPlatform } from "../../provider/install/platform-settings";
import type { AgentInstall } from "./agent-install";
import { eventually, kubectl } from "./env";

/** One cluster of a local environment. */
export type Cluster = ReadyFile["clusters"][number];

/** A fresh invite code for mcp-creds. */
export const newCode = () => `invite-${randomBytes(16).toString("hex")}`;

/** The fields of a core/v1 Event the tests look at. */
export interface KubeEvent {
  metadata: { name: string; namespace: string };
  involvedObject: Record<string, string>;
  type: string;
  reason: string;
  message: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  source?: { component?: string };
  reportingComponent?: string;
}

/** The fields of an API server audit event the tests look at. */
export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** What a test does to the cluster: kubectl, installing the agent's objects, and reading back. */
export function clusterOps(env: ReadyFile, cluster: Cluster, installer: AgentInstall) {
  const k = (args: string[], input?: string) => kubectl(env, cluster.kubeconfig, args, input);
  /** Patches the agent's StatefulSet `meta-controlplane` (merge or strategic). */
  const patchStatefulSet = (type: "merge" | "strategic", patch: unknown) =>
    k([
      "-n",
      "gulfstream",
      "patch",
      "statefulset",
      "meta-controlplane",
      `--type=${type}`,
      "-p",
      JSON.stringify(patch),
    ]);
  return {
    k,
    /** kubectl with the stand-in's bootstrap credential (the kubelet's). */
    asKubelet: (args: string[]) => kubectl(env, cluster.agentKubeconfig, args),
    /** Installs the agent's objects as a connection renders them, with `platform`. */
    install: (platform: AgentPlatform, opts?: { omit?: string[] }) =>
      installer.install(platform, opts),
    /** Makes mcp-creds hold exactly `data`. */
    putSecret: (data: Record<string, string>) => installer.writeCreds(data),
    /** Deletes the agent's StatefulSet without waiting (a finalizer may hold it). */
    deleteStatefulSet: () => installer.deleteStatefulSet(),
    deleteNamespace: () => installer.deleteNamespace(),
    /** Adds a finalizer to the StatefulSet, so that a deletion waits for {@link releaseStatefulSet}. */
    async holdStatefulSet(): Promise<void> {
      await patchStatefulSet("merge", { metadata: { finalizers: ["example.invalid/hold"] } });
    },
    /** Removes the StatefulSet's finalizers, so a deletion they held completes. */
    async releaseStatefulSet(): Promise<void> {
      await patchStatefulSet("merge", { metadata: { finalizers: null } });
    },
    /** Edits the token the StatefulSet's `oidc-token` volume projects. */
    async setPlatformToken(audience: string, expirationSeconds: number): Promise<void> {
      const token = { path: "oidc-token", audience, expirationSeconds };
      const patch = {
        spec: {
          template: {
            spec: {
              volumes: [
                { name: "oidc-token", projected: { sources: [{ serviceAccountToken: token }] } },
              ],
            },
          },
        },
      };
      await patchStatefulSet("strategic", patch);
    },
    /** The Events the agent reported (source enforce-agent), in no particular order. */
    async agentEvents(): Promise<KubeEvent[]> {
      const out = await k(["-n", "gulfstream", "get", "events", "-o", "json"]);
      return (JSON.parse(out) as { items: KubeEvent[] }).items.filter(
        (e) => e.source?.component === "enforce-agent",
      );
    },
    /** Asks the API server whether `token` is one of its service-account tokens for `audience`. */
    async tokenReview(token: string, audience = "gulfstream") {
      const review = {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: [audience] },
      };
      const out = await k(["create", "-o", "json", "-f", "-"], JSON.stringify(review));
      return (JSON.parse(out) as { status: Record<string, unknown> }).status as {
        authenticated?: boolean;
        user?: { username?: string };
        audiences?: string[];
      };
    },
    /** Where the API server's audit log ends now: {@link auditEvents} reads on from there. */
    auditMark(): number {
      return fs.statSync(cluster.auditLog).size;
    },
    /** The API server's audit events (complete lines) written since `mark`. */
    auditEvents(mark: number): AuditEvent[] {
      const events: AuditEvent[] = [];
      const text = fs.readFileSync(cluster.auditLog).subarray(mark).toString("utf8");
      for (const line of text.split("\n")) {
        try {
          if (line.trim()) events.push(JSON.parse(line) as AuditEvent);
        } catch {
          // The line being written.
        }
      }
      return events;
    },
  };
}

/** The operations {@link clusterOps} gives. */
export type ClusterOps = ReturnType<typeof clusterOps>;

/** A stand-in running in this process (see {@link startAgent}). */
export interface RunningAgent {
  logs: string[];
  statusFile: string;
  status(): AgentStatus | undefined;
  done: Promise<void>;
  /** Aborts and resolves with how long `runAgent` took to return. */
  stop(): Promise<number>;
}

/**
 * Runs the stand-in as enforce-local does: with the cluster's bootstrap kubeconfig only. Where
 * the issuer is, it learns from what is installed.
 */
export function startAgent(
  cluster: Cluster,
  extra: { heartbeatMs?: number; refusedRetryMs?: number } = {},
): RunningAgent {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-test-"));
  const statusFile = path.join(dir, "status.json");
  const logs: string[] = [];
  const controller = new AbortController();
  const done = runAgent({
    kubeconfigPath: cluster.agentKubeconfig,
    heartbeatMs: extra.heartbeatMs ?? 60000,
    refusedRetryMs: extra.refusedRetryMs,
    maxRetryMs: 2000,
    statusFile,
    log: (line) => logs.push(line),
    signal: controller.signal,
  });
  let stopped: Promise<number> | undefined;
  return {
    logs,
    statusFile,
    status: () => readStatusFile(statusFile),
    done,
    stop: () =>
      (stopped ??= (async () => {
        const t0 = Date.now();
        controller.abort();
        await done;
        const took = Date.now() - t0;
        fs.rmSync(dir, { recursive: true, force: true });
        return took;
      })()),
  };
}

/** Waits (up to a minute) for the agent's status to hold `want`. */
export const statusWith = (agent: RunningAgent, want: Partial<AgentStatus>, what: string) =>
  eventually(
    `agent status ${what} (${JSON.stringify(want)})`,
    async () => {
      const s = agent.status();
      if (!s) return undefined;
      for (const [key, value] of Object.entries(want)) {
        if (s[key as keyof AgentStatus] !== value) return undefined;
      }
      return s;
    },
    60000,
  );

/** Waits for the agent to log `line` (exactly, or a line matching it). */
export const logged = (agent: RunningAgent, line: string | RegExp) =>
  eventually(`the agent to log ${String(line)}`, async () =>
    agent.logs.find((l) => (typeof line === "string" ? l === line : line.test(l))),
  );
