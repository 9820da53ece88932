import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EnforceClusterConnection } from "pulumi-enforce";

const config = new pulumi.Config();
const stack = pulumi.getStack();
const workloadIdentity = config.getBoolean("workloadIdentity") ?? false;
const project = gcp.organizations.getClientConfigOutput().project;

const cluster = new gcp.container.Cluster("enforce-gke", {
  location: config.get("location") ?? gcp.config.zone ?? gcp.config.region,
  /** Nodes come from the separate node pool below, which can be changed without a new cluster. */
  removeDefaultNodePool: true,
  initialNodeCount: 1,
  /** The provider's default (`true`) would make `pulumi destroy` fail. */
  deletionProtection: false,
  workloadIdentityConfig: workloadIdentity
    ? { workloadPool: pulumi.interpolate`${project}.svc.id.goog` }
    : undefined,
});

const nodePool = new gcp.container.NodePool("enforce-gke", {
  cluster: cluster.name,
  location: cluster.location,
  nodeCount: config.getNumber("nodeCount") ?? 2,
  nodeConfig: {
    machineType: config.get("machineType") ?? "e2-standard-2",
    oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
    workloadMetadataConfig: workloadIdentity ? { mode: "GKE_METADATA" } : undefined,
  },
});

/**
 * A kubeconfig (JSON) that authenticates with the `gke-gcloud-auth-plugin` exec credential
 * plugin, as `gcloud container clusters get-credentials` writes it: it holds no credential, the
 * plugin gets a fresh token from the caller's gcloud login whenever one is needed.
 */
const kubeconfig = pulumi
  .all([cluster.project, cluster.location, cluster.name, cluster.endpoint, cluster.masterAuth])
  .apply(([clusterProject, location, name, endpoint, masterAuth]) => {
    const context = `gke_${clusterProject}_${location}_${name}`;
    return JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: context,
          cluster: {
            server: `https://${endpoint}`,
            "certificate-authority-data": masterAuth.clusterCaCertificate,
          },
        },
      ],
      contexts: [{ name: context, context: { cluster: context, user: context } }],
      "current-context": context,
      users: [
        {
          name: context,
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "gke-gcloud-auth-plugin",
              installHint: "Install it with: gcloud components install gke-gcloud-auth-plugin",
              provideClusterInfo: true,
            },
          },
        },
      ],
    });
  });

const connection = new EnforceClusterConnection(
  "gke",
  {
    kubeconfig,
    group: config.require("enforceGroup"),
    clusterName: config.get("enforceClusterName") ?? `gke-${stack}`,
    description: `GKE cluster of Pulumi stack ${pulumi.getProject()}/${stack}`,
    /**
     * A GKE cluster's service account issuer
     * (`https://container.googleapis.com/v1/projects/.../clusters/...`) is public, with or without
     * Workload Identity. Saying so, instead of leaving `"auto"`, makes a cluster whose issuer
     * cannot be reached fail the prerequisite checks rather than fall back to a private
     * connection, which would have to be renewed every 25 days.
     */
    connectivity: "public",
  },
  {
    /** The agent has to run on a node before it can register: wait for the node pool. */
    dependsOn: [nodePool],
  },
);

const provider = new k8s.Provider("gke", { kubeconfig });

/**
 * Enforcement is opt-in per namespace. Created after the connection, so that no pod in it is
 * admitted before the agent's webhook is there, and deleted before the connection on destroy.
 */
const workloads = new k8s.core.v1.Namespace(
  "workloads",
  {
    metadata: {
      name: config.get("namespace") ?? "workloads",
      labels: { "policy.sigstore.dev/include": "true" },
    },
  },
  { provider, dependsOn: [connection] },
);

export { kubeconfig };
export const enforcedNamespace = workloads.metadata.name;
export const clusterId = connection.clusterId;
export const remoteId = connection.remoteId;
export const connectivity = connection.connectivity;
export const issuer = connection.issuer;
export const signingKeyIds = connection.signingKeyIds;
export const identityId = connection.identityId;
export const registeredAt = connection.registeredAt;
export const renewAt = connection.renewAt;
