/**
 * Finding an installation of the agent this package did not make (`chainctl cluster install`,
 * the Helm chart): the objects the manifests name, and webhook configurations calling into the
 * agent's namespace, that do not carry `app.kubernetes.io/managed-by=pulumi-enforce`.
 * @module
 */

import type { KubeClient } from "../kube/client";
import { kindOf, objectPath } from "./kinds";
import { agentObjectNames, objectKey } from "./manifests";
import { AGENT_NAMESPACE } from "./names";
import { MANAGED_BY, MANAGED_BY_LABEL } from "./ownership";
import type { FoundObject } from "./uninstall";
import { webhooksInto } from "./webhooks";

/** The agent's objects in the cluster that no connection of this package owns. */
export async function findForeignObjects(kube: KubeClient): Promise<FoundObject[]> {
  const named = agentObjectNames();
  for (const webhook of await webhooksInto(kube, AGENT_NAMESPACE)) {
    if (webhook.ours) continue;
    named.push({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: webhook.kind,
      metadata: { name: webhook.configuration },
    });
  }
  const unique = [...new Map(named.map((o) => [objectKey(o), o])).values()];
  const found = await Promise.all(
    unique.map(async (o) => {
      const res = await kube.get<FoundObject>(
        objectPath(kindOf(o), o.metadata.name, o.metadata.namespace),
        { accept: [404] },
      );
      if (res.status === 404) return undefined;
      if (res.body.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) return undefined;
      return { ...res.body, apiVersion: o.apiVersion, kind: o.kind } as FoundObject;
    }),
  );
  return found.filter((o): o is FoundObject => o !== undefined);
}
