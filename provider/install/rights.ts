/**
 * The rights an installation needs, derived from what it applies: every object the manifests hold
 * (`./manifests.ts`) in its namespace, or cluster-wide, and every kind an installation may contain
 * (`./kinds.ts`) listed across the cluster, as uninstalling looks for them. The one place they are
 * kept: `check` asks the API server for each (`../checks/install-rights.ts`) before anything is
 * installed.
 * @module
 */

import { KINDS, kindOf, type Kind } from "./kinds";
import { agentObjectNames } from "./manifests";

/**
 * What is done with each object the installation holds: created and changed by server-side apply
 * (`patch`, and `create` for a new object), read back (`get`), and deleted by an update that no
 * longer wants it and by the delete.
 */
export const OBJECT_VERBS = ["create", "patch", "get", "delete"] as const;

/** A right, as a SelfSubjectAccessReview's `resourceAttributes` asks for it. */
export interface Right {
  verb: string;
  /** The API group, `""` for the core group. */
  group: string;
  /** The resource's plural name. */
  resource: string;
  /** Absent: cluster-wide. */
  namespace?: string;
}

/** Every right an installation needs, without duplicates, in a stable order. */
export function installRights(): Right[] {
  const rights = new Map<string, Right>();
  const add = (right: Right) => rights.set(describeRight(right), right);
  for (const object of agentObjectNames()) {
    const kind = kindOf(object);
    const namespace = kind.namespaced ? object.metadata.namespace : undefined;
    for (const verb of OBJECT_VERBS) add({ verb, ...resourceOf(kind), namespace });
  }
  for (const kind of KINDS) add({ verb: "list", ...resourceOf(kind) });
  return [...rights.values()];
}

/** `create secrets in namespace gulfstream`, `list namespaces (cluster-wide)`. */
export function describeRight(right: Right): string {
  return `${right.verb} ${describeResource(right)}`;
}

/** `secrets in namespace gulfstream`, `customresourcedefinitions.apiextensions.k8s.io (cluster-wide)`. */
export function describeResource(right: Omit<Right, "verb">): string {
  const resource = right.group ? `${right.resource}.${right.group}` : right.resource;
  return right.namespace
    ? `${resource} in namespace ${right.namespace}`
    : `${resource} (cluster-wide)`;
}

function resourceOf(kind: Kind): { group: string; resource: string } {
  const slash = kind.apiVersion.indexOf("/");
  return { group: slash < 0 ? "" : kind.apiVersion.slice(0, slash), resource: kind.plural };
}
