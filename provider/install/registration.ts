/**
 * Waiting for the agent to register its cluster, as `chainctl cluster install` did: polls the
 * platform for a cluster whose `remoteId` is the agent namespace's UID and whose registration is
 * newer than the one before the credentials were written, printing progress while it waits.
 * On timeout the error says what was seen: the agent's Secret and workload, the agent's own
 * report (its Events), and how the platform sees the cluster.
 * @module
 */

import type { KubeClient } from "../kube/client";
import type { Cluster, PlatformClient } from "../platform";
import { formatDuration } from "../inputs/duration";
import { RegistrationTimeoutError } from "../errors";
import { AGENT_NAMESPACE, AGENT_STATEFULSET, CREDS_SECRET } from "./names";

/** What {@link waitForRegistration} waits for. */
export interface RegistrationWait {
  platform: Pick<PlatformClient, "listClusters">;
  kube: KubeClient;
  clusterName: string;
  group: string;
  remoteId: string;
  /** The identity the agent must register with; `""` for a public connection. */
  identityId: string;
  /** `registered` of the cluster with this `remoteId` before the credentials were written. */
  previousRegistered: string | undefined;
  /** When the credentials were written: agent reports before it are stale. */
  since: Date;
  timeoutMs: number;
  progress: (line: string, transient?: boolean) => void;
  /** @default 1000 */
  pollMs?: number;
  /** @default 10000 */
  progressEveryMs?: number;
  now?: () => number;
}

/** Resolves with the registered cluster, or rejects with a {@link RegistrationTimeoutError}. */
export async function waitForRegistration(w: RegistrationWait): Promise<Cluster> {
  const now = w.now ?? Date.now;
  const started = now();
  const deadline = started + w.timeoutMs;
  let nextProgress = started + (w.progressEveryMs ?? 10_000);
  let lastError = "";
  w.progress(
    `waiting for the agent to register cluster "${w.clusterName}" (remoteId ${w.remoteId}), up to ${formatDuration(Math.round(w.timeoutMs / 1000))}`,
    true,
  );
  for (;;) {
    try {
      const clusters = await w.platform.listClusters({ remoteId: w.remoteId });
      const found = clusters.find((c) => isNewRegistration(c, w));
      if (found) {
        w.progress(`the agent registered cluster "${w.clusterName}" as ${found.id}`);
        return found;
      }
      lastError = "";
    } catch (err) {
      // A platform hiccup is not a verdict: keep polling until the deadline.
      lastError = (err as Error).message;
    }
    const t = now();
    if (t >= deadline) break;
    if (t >= nextProgress) {
      const seen = await describeAgent(w).catch((err: Error) => `(${err.message})`);
      w.progress(
        `still waiting for the agent (${formatDuration(Math.round((t - started) / 1000))} so far): ${seen}`,
        true,
      );
      nextProgress = t + (w.progressEveryMs ?? 10_000);
    }
    await new Promise((r) => setTimeout(r, Math.min(w.pollMs ?? 1000, Math.max(0, deadline - t))));
  }
  const seen = await describeAgent(w).catch(
    (err: Error) => `(cannot inspect the cluster: ${err.message})`,
  );
  const timeoutSeconds = Math.round(w.timeoutMs / 1000);
  const fix =
    `read the agent's log (kubectl -n ${AGENT_NAMESPACE} logs statefulset/${AGENT_STATEFULSET} --all-containers), ` +
    "check that its pods run and can reach the Enforce issuer, then run `pulumi up` again (it resumes where this stopped); " +
    "raise registrationTimeout if the agent is only slow to start.";
  throw new RegistrationTimeoutError(
    `the agent did not register cluster "${w.clusterName}" with Enforce within ` +
      `${formatDuration(timeoutSeconds)} (remoteId ${w.remoteId}). Seen: ${seen}` +
      `${lastError ? `; last platform error: ${lastError}` : ""}. What to do: ${fix}`,
    {
      fix,
      clusterName: w.clusterName,
      group: w.group,
      remoteId: w.remoteId,
      identityId: w.identityId,
      timeoutSeconds,
    },
  );
}

function isNewRegistration(c: Cluster, w: RegistrationWait): boolean {
  return (
    c.remoteId === w.remoteId &&
    c.group === w.group &&
    c.registered !== "" &&
    c.registered !== w.previousRegistered &&
    (c.identityId ?? "") === w.identityId
  );
}

interface EventList {
  items?: {
    type?: string;
    reason?: string;
    message?: string;
    lastTimestamp?: string | null;
    eventTime?: string | null;
    firstTimestamp?: string | null;
  }[];
}

/** One sentence on the agent's state in the cluster and on the platform. */
export async function describeAgent(w: RegistrationWait): Promise<string> {
  const { kube } = w;
  const ns = `/api/v1/namespaces/${AGENT_NAMESPACE}`;
  const [secret, sts, events, clusters] = await Promise.all([
    kube.get(`${ns}/secrets/${CREDS_SECRET}`, { accept: [404] }),
    kube.get<{ spec?: { replicas?: number }; status?: { readyReplicas?: number } }>(
      `/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/statefulsets/${AGENT_STATEFULSET}`,
      { accept: [404] },
    ),
    kube.get<EventList>(`${ns}/events`, {
      query: {
        fieldSelector: `involvedObject.kind=StatefulSet,involvedObject.name=${AGENT_STATEFULSET}`,
      },
    }),
    w.platform.listClusters({ remoteId: w.remoteId }).catch(() => [] as Cluster[]),
  ]);
  const parts: string[] = [];
  parts.push(
    secret.status === 404
      ? `Secret ${AGENT_NAMESPACE}/${CREDS_SECRET} is missing`
      : `Secret ${AGENT_NAMESPACE}/${CREDS_SECRET} present`,
  );
  if (sts.status === 404)
    parts.push(`StatefulSet ${AGENT_NAMESPACE}/${AGENT_STATEFULSET} is missing`);
  else {
    const ready = sts.body.status?.readyReplicas ?? 0;
    parts.push(
      `StatefulSet ${AGENT_NAMESPACE}/${AGENT_STATEFULSET} present (${ready}/${sts.body.spec?.replicas ?? 0} pods ready)`,
    );
  }
  const since = w.since.getTime() - 1000;
  const recent = (events.body.items ?? [])
    .map((e) => ({
      ...e,
      at: Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? ""),
    }))
    .filter((e) => Number.isFinite(e.at) && e.at >= since)
    .sort((a, b) => a.at - b.at);
  const last = recent[recent.length - 1];
  parts.push(
    last
      ? `the agent reported ${last.reason ?? "an event"}: ${last.message ?? ""}`.trim()
      : "no report from the agent since its credentials were written",
  );
  const elsewhere = clusters.find((c) => c.group !== w.group);
  if (elsewhere) {
    parts.push(
      `Enforce already lists this installation as cluster ${elsewhere.id} in group ${elsewhere.group}`,
    );
  } else if (clusters[0]) {
    parts.push(`Enforce still shows the previous registration (${clusters[0].registered})`);
  } else parts.push("Enforce lists no cluster with this remoteId yet");
  return parts.join("; ");
}
