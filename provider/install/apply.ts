/**
 * Applying an installation with server-side apply: stage by stage (see `./kinds`), the objects
 * of one stage concurrently, all under one field manager.
 * @module
 */

import type { KubeClient } from "../kube/client";
import { KINDS, kindOf, objectPath } from "./kinds";
import { objectKey, type KubeObject } from "./manifests";
import { FIELD_MANAGER } from "./ownership";

/** An object as the API server returned it after the apply. */
export interface AppliedObject extends KubeObject {
  metadata: KubeObject["metadata"] & { uid: string };
}

/** Applies `objects` in stage order; resolves with each applied object by {@link objectKey}. */
export async function applyObjects(
  client: KubeClient,
  objects: readonly KubeObject[],
): Promise<Map<string, AppliedObject>> {
  const applied = new Map<string, AppliedObject>();
  const stages = [...new Set(KINDS.map((k) => k.stage))].sort((a, b) => a - b);
  for (const stage of stages) {
    const batch = objects.filter((o) => kindOf(o).stage === stage);
    const results = await Promise.all(
      batch.map(async (object) => {
        const path = objectPath(kindOf(object), object.metadata.name, object.metadata.namespace);
        const res = await client.apply<AppliedObject>(path, object, FIELD_MANAGER);
        return [objectKey(object), res.body] as const;
      }),
    );
    for (const [key, body] of results) applied.set(key, body);
  }
  return applied;
}
