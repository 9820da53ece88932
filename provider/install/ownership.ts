/**
 * How an installed object names the connection that owns it. Every object a connection applies
 * carries these labels; the connection id changes when Pulumi replaces the connection, so the
 * label tells the old connection (being deleted) which objects its replacement took over.
 * @module
 */

import { randomBytes } from "node:crypto";

/** Field manager of every server-side apply, so each connection can take over the last one's fields. */
export const FIELD_MANAGER = "pulumi-enforce";

/** Label on every object this package installs. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "pulumi-enforce";
/** Label holding the id of the connection that owns the object. */
export const CONNECTION_LABEL = "pulumi-enforce.dev/connection";
/** Annotation naming the connection's cluster in Enforce, for people reading the cluster. */
export const CLUSTER_NAME_ANNOTATION = "pulumi-enforce.dev/cluster-name";

/** A new connection id: 24 lowercase hex digits, usable as a label value. */
export function newConnectionId(): string {
  return randomBytes(12).toString("hex");
}

/** Label selector of the objects a connection owns. */
export function ownedSelector(connectionId: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${CONNECTION_LABEL}=${connectionId}`;
}

/** Label selector of every object any connection installed. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** Metadata with a connection's labels and annotation added. */
export function withOwnership(
  metadata: Record<string, unknown>,
  owner: { connectionId: string; clusterName: string },
): Record<string, unknown> {
  return {
    ...metadata,
    labels: {
      ...(metadata.labels as Record<string, string> | undefined),
      [MANAGED_BY_LABEL]: MANAGED_BY,
      [CONNECTION_LABEL]: owner.connectionId,
    },
    annotations: {
      ...(metadata.annotations as Record<string, string> | undefined),
      [CLUSTER_NAME_ANNOTATION]: owner.clusterName,
    },
  };
}

/** The connection id an object's labels name, or undefined when no connection owns it. */
export function ownerOf(
  metadata: { labels?: Record<string, string> } | undefined,
): string | undefined {
  const labels = metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY ? labels[CONNECTION_LABEL] : undefined;
}
