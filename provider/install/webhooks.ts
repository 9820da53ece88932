/**
 * Admission webhooks in a cluster, from any tool: which point into a namespace, and which have
 * lost their backend. A fail-closed webhook (`failurePolicy: Fail`, the default) whose Service
 * has no ready endpoint makes the API server refuse every request it matches, such as every pod
 * created in the namespaces it selects, until the webhook configuration is deleted.
 * @module
 */

import { WebhookLeftError } from "../errors";
import type { KubeClient } from "../kube/client";
import { matchesLabelSelector, type LabelSelector } from "../kube/label-selector";
import { collectionPath, KINDS } from "./kinds";
import { MANAGED_BY, MANAGED_BY_LABEL } from "./ownership";

/** The two kinds of webhook configuration. */
export type WebhookKind = "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration";

/** One webhook of a webhook configuration. */
export interface Webhook {
  kind: WebhookKind;
  /** The webhook configuration's name. */
  configuration: string;
  /** The webhook's own name within it. */
  name: string;
  /** `Fail` unless the configuration says `Ignore` (the API's default is `Fail`). */
  failurePolicy: string;
  /** The Service it calls; undefined when it calls a URL. */
  service?: { namespace: string; name: string };
  namespaceSelector?: LabelSelector;
  /** Whether the configuration carries `app.kubernetes.io/managed-by=pulumi-enforce`. */
  ours: boolean;
}

interface ConfigurationList {
  items?: Array<{
    metadata: { name: string; labels?: Record<string, string> };
    webhooks?: Array<{
      name: string;
      failurePolicy?: string;
      namespaceSelector?: LabelSelector;
      clientConfig?: { service?: { namespace: string; name: string } };
    }>;
  }>;
}

const WEBHOOK_KINDS = KINDS.filter((k) => k.kind.endsWith("WebhookConfiguration"));

function serviceOf(service: { namespace: string; name: string } | undefined): Webhook["service"] {
  return service && { namespace: service.namespace, name: service.name };
}

/** Every webhook of every webhook configuration in the cluster. */
export async function listWebhooks(kube: KubeClient): Promise<Webhook[]> {
  const lists = await Promise.all(
    WEBHOOK_KINDS.map(async (kind) => {
      const res = await kube.get<ConfigurationList>(collectionPath(kind));
      return (res.body.items ?? []).flatMap((c) =>
        (c.webhooks ?? []).map(
          (w): Webhook => ({
            kind: kind.kind as WebhookKind,
            configuration: c.metadata.name,
            name: w.name,
            failurePolicy: w.failurePolicy ?? "Fail",
            service: serviceOf(w.clientConfig?.service),
            namespaceSelector: w.namespaceSelector,
            ours: c.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
          }),
        ),
      );
    }),
  );
  return lists.flat();
}

/** The webhooks that call a Service in `namespace`. */
export async function webhooksInto(kube: KubeClient, namespace: string): Promise<Webhook[]> {
  return (await listWebhooks(kube)).filter((w) => w.service?.namespace === namespace);
}

/**
 * Proves that no webhook configuration calls a Service in `namespace`, after an uninstall
 * removed its backend.
 * @throws {@link WebhookLeftError} naming those left and the commands that delete them.
 */
export async function assertNoWebhooksInto(kube: KubeClient, namespace: string): Promise<void> {
  const left = await webhooksInto(kube, namespace);
  if (left.length === 0) return;
  const configurations = [...new Set(left.map(describeConfiguration))];
  const commands = [...new Set(left.map(removeCommand))];
  throw new WebhookLeftError(namespace, configurations, commands);
}

/** The kubectl command that deletes a webhook's configuration. */
export function removeCommand(webhook: Pick<Webhook, "kind" | "configuration">): string {
  return `kubectl delete ${webhook.kind.toLowerCase()} ${webhook.configuration}`;
}

/** `Kind name`, as messages name a webhook configuration. */
export function describeConfiguration(webhook: Pick<Webhook, "kind" | "configuration">): string {
  return `${webhook.kind} ${webhook.configuration}`;
}

/** A fail-closed webhook without a backend. */
export interface OrphanedWebhook extends Webhook {
  /** Why it has no backend, e.g. `Service gulfstream/webhook has no ready endpoints`. */
  reason: string;
  /** The namespaces its `namespaceSelector` selects now, sorted. */
  namespaces: string[];
  /** The command that removes it. */
  removeCommand: string;
}

/**
 * The fail-closed webhooks whose Service is missing or has no ready endpoint (in its
 * EndpointSlices), with the namespaces they block and the command that removes them.
 */
export async function findOrphanedWebhooks(kube: KubeClient): Promise<OrphanedWebhook[]> {
  const failClosed = (await listWebhooks(kube)).filter(
    (w) => w.failurePolicy === "Fail" && w.service,
  );
  if (failClosed.length === 0) return [];
  const namespaces = await listNamespaces(kube);
  const orphaned: OrphanedWebhook[] = [];
  for (const webhook of failClosed) {
    const reason = await missingBackend(
      kube,
      webhook.service as { namespace: string; name: string },
    );
    if (!reason) continue;
    orphaned.push({
      ...webhook,
      reason,
      namespaces: namespaces
        .filter((ns) => matchesLabelSelector(webhook.namespaceSelector, ns.labels))
        .map((ns) => ns.name)
        .sort(),
      removeCommand: removeCommand(webhook),
    });
  }
  return orphaned;
}

/** Why a Service is no backend (missing, or no ready endpoint), or undefined when it is one. */
async function missingBackend(
  kube: KubeClient,
  service: { namespace: string; name: string },
): Promise<string | undefined> {
  const ns = encodeURIComponent(service.namespace);
  const name = `Service ${service.namespace}/${service.name}`;
  const svc = await kube.get<{ spec?: { type?: string } }>(
    `/api/v1/namespaces/${ns}/services/${encodeURIComponent(service.name)}`,
    { accept: [404] },
  );
  if (svc.status === 404) return `${name} does not exist`;
  // An ExternalName Service has no endpoints by design; the API server calls the name.
  if (svc.body.spec?.type === "ExternalName") return undefined;
  const slices = await kube.get<{
    items?: Array<{ endpoints?: Array<{ conditions?: { ready?: boolean } }> }>;
  }>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    query: { labelSelector: `kubernetes.io/service-name=${service.name}` },
  });
  const ready = (slices.body.items ?? []).some((s) =>
    // `ready` unset means ready (discovery.k8s.io/v1).
    (s.endpoints ?? []).some((e) => e.conditions?.ready !== false),
  );
  return ready ? undefined : `${name} has no ready endpoints`;
}

async function listNamespaces(
  kube: KubeClient,
): Promise<Array<{ name: string; labels: Record<string, string> }>> {
  const res = await kube.get<{
    items?: Array<{ metadata: { name: string; labels?: Record<string, string> } }>;
  }>("/api/v1/namespaces");
  return (res.body.items ?? []).map((n) => ({
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
  }));
}
