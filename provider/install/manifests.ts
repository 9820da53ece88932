/**
 * The agent's manifests (the YAML data under `manifests/`) rendered for one connection: the
 * files give every object; this module fills in only what depends on the connection's inputs
 * and adds its ownership labels. Pure apart from reading the files once.
 * @module
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { ManifestError } from "../errors";
import { AGENT_IMAGES, type AgentImageName } from "../inputs/agent-images";
import type { EnforcerOptions, Profile } from "../inputs";
import { PACKAGE_ROOT } from "../util/package-root";
import { AGENT_NAMESPACE, CREDS_SECRET, PLATFORM_CONFIG } from "./names";
import { withOwnership } from "./ownership";
import { platformConfigData, platformDigest, type AgentPlatform } from "./platform-settings";

/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** Where the manifests are: the package root's `manifests/`. */
const MANIFESTS_DIR = path.join(PACKAGE_ROOT, "manifests");

/** Agent manifest files; their order does not matter, stages decide it. */
const AGENT_FILES = [
  "agent/namespaces.yaml",
  "agent/crds.yaml",
  "agent/rbac.yaml",
  "agent/config.yaml",
  "agent/workload.yaml",
  "agent/webhooks.yaml",
];

const cache = new Map<string, KubeObject[]>();

/** The objects of one manifest file, parsed once per process; callers get copies. */
function load(relative: string): KubeObject[] {
  let objects = cache.get(relative);
  if (!objects) {
    const file = path.join(MANIFESTS_DIR, relative);
    const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
    objects = [];
    for (const doc of docs) {
      const [error] = doc.errors;
      if (error) throw new ManifestError(`${file}: ${error.message}`, { file, cause: error });
      const object = doc.toJS() as KubeObject | null;
      if (object) objects.push(object);
    }
    cache.set(relative, objects);
  }
  return structuredClone(objects);
}

/** The credentials and details the agent registers with, written to `gulfstream/mcp-creds`. */
export interface AgentCredentials {
  /** The invite code: a credential. */
  code: string;
  /** The static-key identity (private connections); `""` for public ones. */
  identityId: string;
  clusterName: string;
  clusterDescription: string;
}

/** What an installation depends on. */
export interface InstallationSpec {
  connectionId: string;
  clusterName: string;
  profiles: Profile[];
  enforcerOptions: EnforcerOptions;
  agentImages: Partial<Record<AgentImageName, string>>;
  /** Where the agent finds Enforce. */
  platform: AgentPlatform;
}

/** Pod-template annotation holding {@link platformDigest}: a new value rolls the agent's pods. */
export const PLATFORM_DIGEST_ANNOTATION = "pulumi-enforce.dev/platform-config";

/** The image each agent container runs: the override, else the pinned default. */
export function agentImageReferences(
  overrides: Partial<Record<AgentImageName, string>>,
): Record<string, string> {
  const byContainer: Record<string, string> = {};
  for (const [name, image] of Object.entries(AGENT_IMAGES)) {
    byContainer[image.container] = overrides[name as AgentImageName] ?? image.defaultReference;
  }
  return byContainer;
}

/**
 * The agent's objects for a connection, `mcp-creds` excluded (see {@link credentialsSecret}):
 * webhooks only with the `enforcer` profile, configured by `enforcerOptions`.
 */
export function agentObjects(spec: InstallationSpec): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const file of AGENT_FILES) {
    for (const object of load(file)) {
      if (isWebhookConfiguration(object) && !spec.profiles.includes("enforcer")) continue;
      objects.push(customize(object, spec));
    }
  }
  return objects.map((object) => owned(object, spec));
}

/**
 * Kind, namespace and name of every object an installation of the agent may hold, whoever made
 * it (`mcp-creds` and the webhook configurations included), as the manifests name them.
 */
export function agentObjectNames(): KubeObject[] {
  const objects = AGENT_FILES.flatMap(load);
  objects.push({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: CREDS_SECRET, namespace: AGENT_NAMESPACE },
  });
  return objects.map(({ apiVersion, kind, metadata: { name, namespace } }) => ({
    apiVersion,
    kind,
    metadata: namespace === undefined ? { name } : { name, namespace },
  }));
}

/** Secret `gulfstream/mcp-creds` holding `credentials`, owned by the connection. */
export function credentialsSecret(
  credentials: AgentCredentials,
  owner: { connectionId: string; clusterName: string },
): KubeObject {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  return owned(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: CREDS_SECRET, namespace: AGENT_NAMESPACE },
      type: "Opaque",
      data: {
        code: b64(credentials.code),
        "identity-uid": b64(credentials.identityId),
        "cluster-name": b64(credentials.clusterName),
        "cluster-description": b64(credentials.clusterDescription),
      },
    },
    owner,
  );
}

/** ClusterRoleBinding `public-issuer-discovery`, owned by the connection. */
export function issuerBindingObject(owner: {
  connectionId: string;
  clusterName: string;
}): KubeObject {
  const [binding] = load("public-issuer-discovery.yaml");
  if (!binding) throw new ManifestError("public-issuer-discovery.yaml holds no object");
  return owned(binding, owner);
}

/** A stable key naming one object: kind, namespace and name. */
export function objectKey(object: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** `Kind namespace/name`, as messages name an object. */
export function describeObject(object: {
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : "";
  return `${object.kind} ${ns}${object.metadata.name}`;
}

function owned(
  object: KubeObject,
  spec: { connectionId: string; clusterName: string },
): KubeObject {
  return { ...object, metadata: withOwnership(object.metadata, spec) as KubeObject["metadata"] };
}

function isWebhookConfiguration(object: KubeObject): boolean {
  return (
    object.kind === "MutatingWebhookConfiguration" ||
    object.kind === "ValidatingWebhookConfiguration"
  );
}

/** Fills in the fields that depend on the inputs. */
function customize(object: KubeObject, spec: InstallationSpec): KubeObject {
  if (isWebhookConfiguration(object)) {
    const webhooks = object.webhooks as Record<string, unknown>[];
    for (const webhook of webhooks) {
      webhook.failurePolicy = spec.enforcerOptions.webhookFailOpen ? "Ignore" : "Fail";
      webhook.namespaceSelector =
        spec.enforcerOptions.namespaceEnforcementMode === "opt-in"
          ? {
              matchExpressions: [
                { key: "policy.sigstore.dev/include", operator: "In", values: ["true"] },
              ],
            }
          : {
              matchExpressions: [
                { key: "policy.sigstore.dev/exclude", operator: "NotIn", values: ["true"] },
              ],
            };
    }
  } else if (object.kind === "StatefulSet") {
    const images = agentImageReferences(spec.agentImages);
    const template = (
      object.spec as {
        template: {
          metadata: { annotations?: Record<string, string> };
          spec: { containers: { name: string; image?: string }[] };
        };
      }
    ).template;
    template.metadata.annotations = {
      ...template.metadata.annotations,
      [PLATFORM_DIGEST_ANNOTATION]: platformDigest(spec.platform),
    };
    for (const container of template.spec.containers) {
      const image = images[container.name];
      if (!image)
        throw new ManifestError(`manifests: no agent image for container "${container.name}"`);
      container.image = image;
    }
  } else if (object.kind === "ConfigMap" && object.metadata.name === PLATFORM_CONFIG) {
    object.data = platformConfigData(spec.platform);
  } else if (object.kind === "ConfigMap" && object.metadata.name === "config-policy-controller") {
    (object.data as Record<string, string>)["enable-cip-cache"] = String(
      spec.enforcerOptions.enableCipCache,
    );
  }
  return object;
}
