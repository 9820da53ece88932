/**
 * The text `pulumi-enforce uninstall` prints about what it found: the objects in the order they
 * are removed, the installation it did not make, and the registration in Enforce.
 * @module
 */

import { kindOf, STAGES } from "../install/kinds";
import { describeObject } from "../install/manifests";
import { AGENT_NAMESPACE } from "../install/names";
import { MANAGED_SELECTOR } from "../install/ownership";
import type { FoundObject } from "../install/uninstall";
import type { ClusterPlan, Registrations } from "../lifecycle/emergency/plan";

/** What is known of Enforce: the registrations found, or why they were not looked up. */
export type EnforceView =
  | { apiUrl: string; registrations: Registrations }
  | { apiUrl?: string; notLookedUp: string };

/** The objects `objects` in removal order, as numbered lines. */
export function removalSteps(objects: readonly FoundObject[]): string[] {
  const at = (test: (stage: number) => boolean) =>
    objects.filter((o) => test(kindOf(o).stage)).map(describeObject);
  const steps: Array<[string, string[]]> = [
    ["webhook configurations", at((s) => s === STAGES.admission)],
    ["the workload", at((s) => s === STAGES.workload)],
    ["the rest", at((s) => s < STAGES.workload)],
  ];
  const lines = steps.map(
    ([what, names], i) => `  ${i + 1}. ${what}: ${names.length ? names.join(", ") : "none"}`,
  );
  const finalized = objects
    .filter((o) => o.kind === "Namespace" || o.kind === "CustomResourceDefinition")
    .map(describeObject);
  if (finalized.length) {
    const verb = finalized.length === 1 ? "is" : "are";
    lines.push(`  then it waits until ${finalized.join(", ")} ${verb} gone`);
  }
  return lines;
}

/** The cluster part of the report. */
export function renderCluster(plan: ClusterPlan, foreign: boolean): string[] {
  const lines: string[] = [];
  const removed = [...plan.owned, ...(foreign ? plan.foreign : [])];
  if (plan.owned.length === 0) lines.push(`No object carries ${MANAGED_SELECTOR}.`);
  else {
    const ids = plan.connectionIds.join(", ") || "none named";
    lines.push(`${plan.owned.length} objects carry ${MANAGED_SELECTOR} (connections: ${ids}).`);
  }
  if (plan.foreign.length > 0) {
    lines.push(
      `${plan.foreign.length} objects of an agent installation pulumi-enforce did not make (no such label): ` +
        plan.foreign.map(describeObject).join(", ") +
        (foreign
          ? ". --include-foreign: they are removed too."
          : ". They are left alone: --include-foreign removes them too."),
    );
  }
  if (removed.length > 0) lines.push("Removal, in this order:", ...removalSteps(removed));
  return lines;
}

/** The Enforce part of the report. */
export function renderEnforce(view: EnforceView, plan: ClusterPlan): string[] {
  const where = view.apiUrl ? `Enforce (${view.apiUrl})` : "Enforce";
  if ("notLookedUp" in view) {
    const remote = plan.namespace
      ? ` The cluster's registration, if any, has remoteId ${plan.namespace.uid} (the UID of namespace ${AGENT_NAMESPACE}).`
      : "";
    return [`${where}: not looked up: ${view.notLookedUp}.${remote}`];
  }
  const { clusters, identities } = view.registrations;
  if (clusters.length === 0 && identities.length === 0) {
    const by = plan.namespace ? ` (remoteId ${plan.namespace.uid})` : "";
    return [`${where}: no registration of this installation found${by}.`];
  }
  return [
    `${where}, to unregister after the cluster is clean:`,
    ...clusters.map(
      (c) => `  cluster ${c.id} ("${c.name}", group ${c.group}, remoteId ${c.remoteId})`,
    ),
    ...identities.map((i) => `  identity ${i.id} (${i.name})`),
  ];
}
