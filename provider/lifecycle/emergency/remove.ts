/**
 * What `pulumi-enforce uninstall --yes` does once planned: deletes the objects (webhook
 * configurations first, then the workload, then the rest; waits until namespaces and CRDs are
 * gone), proves no webhook is left calling into the agent's namespace, then unregisters from
 * Enforce. Every step tolerates what is already gone, so a rerun finishes what a failed one left.
 * @module
 */

import { readAgentNamespace } from "../../install/installation";
import { AGENT_NAMESPACE } from "../../install/names";
import { deleteObjects } from "../../install/uninstall";
import { assertNoWebhooksInto } from "../../install/webhooks";
import type { KubeClient } from "../../kube/client";
import type { PlatformClient } from "../../platform";
import type { ClusterPlan, Registrations } from "./plan";

/** Options of {@link removeFromCluster}. */
export interface RemoveOptions {
  /** Remove the agent's objects that this package did not make, too. */
  foreign: boolean;
  /** How long to wait for namespaces and CRDs to be gone. @default 180000 */
  finalizeTimeoutMs?: number;
  /** Told each step. */
  say: (line: string) => void;
}

/** Removes the planned objects from the cluster and proves no webhook is left behind. */
export async function removeFromCluster(
  kube: KubeClient,
  plan: ClusterPlan,
  opts: RemoveOptions,
): Promise<void> {
  const objects = [...plan.owned, ...(opts.foreign ? plan.foreign : [])];
  if (objects.length === 0) opts.say("nothing to remove from the cluster");
  else {
    await deleteObjects(kube, objects, {
      progress: (line) => opts.say(line),
      finalizeTimeoutMs: opts.finalizeTimeoutMs,
    });
  }
  if (await readAgentNamespace(kube)) {
    opts.say(
      `namespace ${AGENT_NAMESPACE} remains (not made by pulumi-enforce): the webhooks calling into it were left alone`,
    );
    return;
  }
  await assertNoWebhooksInto(kube, AGENT_NAMESPACE);
  opts.say(`checked: no webhook configuration calls a Service in namespace ${AGENT_NAMESPACE}`);
}

/** Deletes the registrations from Enforce; those already gone count as deleted. */
export async function unregister(
  platform: PlatformClient,
  registrations: Registrations,
  say: (line: string) => void,
): Promise<void> {
  for (const c of registrations.clusters) {
    const deleted = await platform.deleteCluster(c.id);
    say(`${deleted ? "unregistered" : "already gone:"} cluster ${c.id} ("${c.name}") from Enforce`);
  }
  for (const i of registrations.identities) {
    const deleted = await platform.deleteIdentity(i.id);
    say(`${deleted ? "deleted" : "already gone:"} identity ${i.id} (${i.name}) from Enforce`);
  }
}
