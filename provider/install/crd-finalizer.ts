/**
 * Helping the API server finish deleting a CustomResourceDefinition. Its finalizer lists the
 * CRD's instances through the watch cache; since Kubernetes 1.34 a cache that is still being
 * built answers that list with 429 "storage is (re)initializing" instead of waiting, and each
 * CRD deleted rebuilds the caches of its API group. The finalizer then retries with exponential
 * backoff, and a CRD can stay terminating for minutes with the condition `Terminating`,
 * reason `InstanceDeletionFailed` (kubernetes/kubernetes#140485; operator-framework
 * operator-controller#1437). So, while such a CRD waits: list its instances until the cache
 * answers (which builds it), then change an annotation on the CRD, which makes the finalizer try
 * again at once, now against a ready cache.
 * @module
 */

import type { KubeClient } from "../kube/client";

/** The parts of a CustomResourceDefinition this module reads. */
export interface CrdObject {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: {
    group?: string;
    names?: { plural?: string };
    versions?: Array<{ name?: string; storage?: boolean }>;
  };
  status?: { conditions?: Array<{ type?: string; status?: string; reason?: string }> };
}

/** The annotation changed to make the finalizer try again. */
export const RETRY_ANNOTATION = "pulumi-enforce.dev/finalize-retry";

/** Whether the CRD is being deleted and its finalizer's last try failed to clean its instances. */
export function finalizerFailed(crd: CrdObject): boolean {
  if (!crd.metadata?.deletionTimestamp) return false;
  return (crd.status?.conditions ?? []).some(
    (c) => c.type === "Terminating" && c.status === "True" && c.reason === "InstanceDeletionFailed",
  );
}

/** The path that lists the CRD's instances (all namespaces), or undefined if it names none. */
export function instancesPath(crd: CrdObject): string | undefined {
  const group = crd.spec?.group;
  const plural = crd.spec?.names?.plural;
  const version = crd.spec?.versions?.find((v) => v.storage)?.name;
  return group && plural && version ? `/apis/${group}/${version}/${plural}` : undefined;
}

/**
 * One step of help for a CRD whose finalizer failed: lists one of its instances (429 or 503:
 * the cache is still being built, try again at the next step); once that answers, annotates the
 * CRD with the time, which requeues it for the finalizer. Resolves with whether it annotated.
 */
export async function retryFinalizer(
  client: KubeClient,
  crdPath: string,
  crd: CrdObject,
  now: Date,
): Promise<boolean> {
  const instances = instancesPath(crd);
  if (!instances) return false;
  const listed = await client.get(instances, { query: { limit: "1" }, accept: [429, 503, 404] });
  if (listed.status !== 200) return false;
  const patch = { metadata: { annotations: { [RETRY_ANNOTATION]: now.toISOString() } } };
  const res = await client.request("PATCH", crdPath, {
    body: patch,
    contentType: "application/merge-patch+json",
    accept: [404, 409],
  });
  return res.status === 200;
}
