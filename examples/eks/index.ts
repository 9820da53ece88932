import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EnforceClusterConnection } from "pulumi-enforce";

const config = new pulumi.Config();
const stack = pulumi.getStack();

const cluster = new eks.Cluster("enforce-eks", {
  instanceType: config.get("instanceType") ?? "t3.medium",
  desiredCapacity: config.getNumber("nodeCount") ?? 2,
  minSize: 1,
  maxSize: config.getNumber("maxNodeCount") ?? 3,
});

const connection = new EnforceClusterConnection(
  "eks",
  {
    kubeconfig: cluster.kubeconfigJson,
    group: config.require("enforceGroup"),
    clusterName: config.get("enforceClusterName") ?? `eks-${stack}`,
    description: `EKS cluster of Pulumi stack ${pulumi.getProject()}/${stack}`,
    /**
     * An EKS cluster's service account issuer (`https://oidc.eks.<region>.amazonaws.com/id/...`)
     * is public. Saying so, instead of leaving `"auto"`, makes a cluster whose issuer cannot be
     * reached fail the prerequisite checks rather than fall back to a private connection, which
     * would have to be renewed every 25 days.
     */
    connectivity: "public",
  },
  {
    /** The agent has to run on a node before it can register: wait for the default node group. */
    dependsOn: [cluster],
  },
);

const provider = new k8s.Provider("eks", { kubeconfig: cluster.kubeconfigJson });

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

export const kubeconfig = cluster.kubeconfigJson;
export const enforcedNamespace = workloads.metadata.name;
export const clusterId = connection.clusterId;
export const remoteId = connection.remoteId;
export const connectivity = connection.connectivity;
export const issuer = connection.issuer;
export const signingKeyIds = connection.signingKeyIds;
export const identityId = connection.identityId;
export const registeredAt = connection.registeredAt;
export const renewAt = connection.renewAt;
