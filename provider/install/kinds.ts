/**
 * The kinds of object an installation consists of: where each lives in the Kubernetes API and
 * in which stage it is applied. Installing goes up the stages, uninstalling down, so admission
 * webhooks (last in) are the first thing removed: a fail-closed webhook whose backend is gone
 * would block pod admission in every namespace it selects.
 * @module
 */

/** One managed kind. */
export interface Kind {
  apiVersion: string;
  kind: string;
  /** The resource name in API paths. */
  plural: string;
  namespaced: boolean;
  /** Apply order: every object of a stage is applied before any of the next one. */
  stage: number;
}

/** Stages, in apply order. */
export const STAGES = {
  /** Namespaces and CRDs: everything else lives in or refers to them. */
  foundation: 0,
  /** Identity, permissions, configuration, the Service in front of the workload. */
  configuration: 1,
  /** Bindings, once the roles they grant exist. */
  bindings: 2,
  /** The agent's StatefulSet. */
  workload: 3,
  /** Admission webhooks, once their backend exists; removed first. */
  admission: 4,
} as const;

/** A kind whose resource name is its lowercased name plus `s`, as for every kind listed here. */
const k = (apiVersion: string, kind: string, namespaced: boolean, stage: number): Kind => ({
  apiVersion,
  kind,
  plural: `${kind.toLowerCase()}s`,
  namespaced,
  stage,
});

const CRD = "apiextensions.k8s.io/v1";
const RBAC = "rbac.authorization.k8s.io/v1";
const ADMISSION = "admissionregistration.k8s.io/v1";

/** Every kind an installation may contain, in apply order. */
export const KINDS: readonly Kind[] = [
  k("v1", "Namespace", false, STAGES.foundation),
  k(CRD, "CustomResourceDefinition", false, STAGES.foundation),
  k("v1", "ServiceAccount", true, STAGES.configuration),
  k(RBAC, "ClusterRole", false, STAGES.configuration),
  k(RBAC, "Role", true, STAGES.configuration),
  k("v1", "Secret", true, STAGES.configuration),
  k("v1", "ConfigMap", true, STAGES.configuration),
  k("v1", "Service", true, STAGES.configuration),
  k("policy/v1", "PodDisruptionBudget", true, STAGES.configuration),
  k(RBAC, "ClusterRoleBinding", false, STAGES.bindings),
  k(RBAC, "RoleBinding", true, STAGES.bindings),
  k("apps/v1", "StatefulSet", true, STAGES.workload),
  k(ADMISSION, "MutatingWebhookConfiguration", false, STAGES.admission),
  k(ADMISSION, "ValidatingWebhookConfiguration", false, STAGES.admission),
];

/** The kind of an object, or a TypeError naming it when it is not one an installation has. */
export function kindOf(object: { apiVersion?: unknown; kind?: unknown }): Kind {
  const found = KINDS.find((c) => c.apiVersion === object.apiVersion && c.kind === object.kind);
  if (!found) {
    throw new TypeError(
      `${String(object.apiVersion)} ${String(object.kind)} is not a kind pulumi-enforce installs`,
    );
  }
  return found;
}

/** API path of a kind's collection (in `namespace` when given, else cluster-wide). */
export function collectionPath(kind: Kind, namespace?: string): string {
  const base = kind.apiVersion.includes("/")
    ? `/apis/${kind.apiVersion}`
    : `/api/${kind.apiVersion}`;
  const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${kind.plural}`;
}

/** API path of one object. */
export function objectPath(kind: Kind, name: string, namespace?: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}
