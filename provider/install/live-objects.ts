/**
 * Reading back the objects a connection installed, as they are now, for drift detection: one
 * list per kind (by the connection's label, concurrently), then a get for each expected object
 * the lists missed (its label may have been edited away), concurrently too.
 * @module
 */

import type { KubeClient } from "../kube/client";
import type { LiveObject } from "./drift";
import { kindOf, objectPath } from "./kinds";
import { objectKey, type KubeObject } from "./manifests";
import { ownedSelector } from "./ownership";
import { listObjects } from "./uninstall";

/** The objects of `expected` that exist, labelled as the connection's or not. */
export async function readLiveObjects(
  kube: KubeClient,
  connectionId: string,
  expected: readonly KubeObject[],
): Promise<LiveObject[]> {
  const listed: LiveObject[] = await listObjects(kube, ownedSelector(connectionId));
  const keys = new Set(listed.map(objectKey));
  const unlisted = expected.filter((o) => !keys.has(objectKey(o)));
  const got = await Promise.all(unlisted.map((o) => getObject(kube, o)));
  return [...listed, ...got.filter((o): o is LiveObject => o !== undefined)];
}

/** One object by kind, namespace and name; undefined when it does not exist. */
async function getObject(kube: KubeClient, object: KubeObject): Promise<LiveObject | undefined> {
  const { name, namespace } = object.metadata;
  const res = await kube.get<LiveObject>(objectPath(kindOf(object), name, namespace), {
    accept: [404],
  });
  if (res.status === 404) return undefined;
  return { ...res.body, apiVersion: object.apiVersion, kind: object.kind };
}
