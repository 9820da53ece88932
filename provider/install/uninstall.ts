/**
 * Finding and removing the objects a connection owns: webhooks first, then the workload, then
 * the rest, namespaces and CRDs last, tolerating what is already gone.
 * @module
 */

import type { KubeClient } from "../kube/client";
import { DeleteTimeoutError } from "../errors";
import { waitFor, WaitTimeoutError } from "../util/wait";
import { finalizerFailed, retryFinalizer, type CrdObject } from "./crd-finalizer";
import { collectionPath, KINDS, kindOf, objectPath } from "./kinds";
import { describeObject, objectKey, type KubeObject } from "./manifests";

/** An object found in the cluster. */
export interface FoundObject extends KubeObject {
  metadata: KubeObject["metadata"] & { uid: string; labels?: Record<string, string> };
}

/** Every object of the managed kinds that matches `labelSelector`, cluster-wide. */
export async function listObjects(
  client: KubeClient,
  labelSelector: string,
): Promise<FoundObject[]> {
  const lists = await Promise.all(
    KINDS.map(async (kind) => {
      const res = await client.get<{ items?: Omit<FoundObject, "apiVersion" | "kind">[] }>(
        collectionPath(kind),
        { query: { labelSelector }, accept: [404] },
      );
      // 404: the API is not served (e.g. no policy/v1); nothing of that kind exists then.
      if (res.status === 404) return [];
      return (res.body.items ?? []).map(
        (item) => ({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }) as FoundObject,
      );
    }),
  );
  return lists.flat();
}

/** Options of {@link deleteObjects}. */
export interface DeleteOptions {
  /** Told about each stage as it starts (transient lines: they only update a status). */
  progress?: (line: string, transient?: boolean) => void;
  /** How long to wait for objects with finalizers (namespaces, CRDs) to be gone. @default 180000 */
  finalizeTimeoutMs?: number;
}

/**
 * Deletes `objects` stage by stage, last-applied stage first, each stage concurrently, then waits
 * until those that finalizers kept (namespaces emptying, CRDs removing their instances) are gone,
 * so that a new installation can follow at once and nothing is left half-deleted. A 404 counts
 * as deleted.
 */
export async function deleteObjects(
  client: KubeClient,
  objects: readonly KubeObject[],
  opts: DeleteOptions = {},
): Promise<void> {
  const stages = [...new Set(objects.map((o) => kindOf(o).stage))].sort((a, b) => b - a);
  const pending: KubeObject[] = [];
  for (const stage of stages) {
    const batch = objects.filter((o) => kindOf(o).stage === stage);
    opts.progress?.(`deleting ${batch.map(describeObject).join(", ")}`, true);
    const results = await Promise.all(batch.map((object) => deleteOne(client, object)));
    pending.push(...batch.filter((_, i) => results[i]));
  }
  if (pending.length === 0) return;
  const what = pending.map(describeObject).join(", ");
  opts.progress?.(`waiting for ${what} to finish terminating`, true);
  const gone = allGone(client, pending, (o) =>
    opts.progress?.(`${describeObject(o)} is gone`, true),
  );
  try {
    await waitFor(`${what} to be deleted`, gone, {
      timeoutMs: opts.finalizeTimeoutMs ?? 180_000,
      intervalMs: 500,
    });
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    throw new DeleteTimeoutError(err.message, pending.map(describeObject), { cause: err });
  }
}

/** How often a CRD whose finalizer failed is helped along (see `./crd-finalizer.ts`). */
const FINALIZER_RETRY_MS = 3000;

/**
 * A probe for `waitFor`: true once every object in `pending` is gone (`onGone` is told of each
 * once). A CRD whose finalizer failed to clean its instances is helped along on the way, at most
 * every few seconds.
 */
function allGone(
  client: KubeClient,
  pending: readonly KubeObject[],
  onGone: (object: KubeObject) => void,
): () => Promise<true | undefined> {
  const helped = new Map<string, number>();
  const gone = new Set<KubeObject>();
  return async () => {
    let done = true;
    for (const o of pending) {
      if (gone.has(o)) continue;
      const path = objectPath(kindOf(o), o.metadata.name, o.metadata.namespace);
      const res = await client.get<CrdObject>(path, { accept: [404] });
      if (res.status === 404) {
        gone.add(o);
        onGone(o);
        continue;
      }
      done = false;
      const last = helped.get(path) ?? 0;
      if (o.kind === "CustomResourceDefinition" && finalizerFailed(res.body)) {
        if (Date.now() - last >= FINALIZER_RETRY_MS) {
          helped.set(path, Date.now());
          await retryFinalizer(client, path, res.body, new Date());
        }
      }
    }
    return done ? true : undefined;
  };
}

/** Deletes one object; resolves with whether it still exists, held by finalizers. */
async function deleteOne(client: KubeClient, object: KubeObject): Promise<boolean> {
  const res = await client.delete<{ kind?: string; metadata?: { deletionTimestamp?: string } }>(
    objectPath(kindOf(object), object.metadata.name, object.metadata.namespace),
    { accept: [404], query: { propagationPolicy: "Background" } },
  );
  return (
    res.status !== 404 && res.body?.kind !== "Status" && !!res.body?.metadata?.deletionTimestamp
  );
}

/** The objects of `found` whose key is not in `keep`. */
export function notIn(found: readonly FoundObject[], keep: Iterable<string>): FoundObject[] {
  const kept = new Set(keep);
  return found.filter((o) => !kept.has(objectKey(o)));
}
