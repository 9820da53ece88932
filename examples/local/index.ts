/**
 * Two local clusters connected to the local Enforce emulator: what `npm run demo` deploys.
 *
 * Start the environment first (`npx enforce-local up --dir .local --clusters 2`); this program
 * reads its `ready.json` for the clusters' kubeconfigs and the emulator's group. The first
 * cluster becomes public through `exposeIssuerDiscovery`; the second stays private, so its keys
 * are uploaded and renewed. Each cluster then gets an `apps` namespace that opts into
 * enforcement, created after the connection as a user's workloads would be.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EnforceClusterConnection } from "pulumi-enforce";

interface LocalEnvironment {
  clusters: { name: string; kubeconfig: string }[];
  enforce?: { group: string };
}

function readEnvironment(dir: string): LocalEnvironment {
  const file = path.join(dir, "ready.json");
  if (!fs.existsSync(file)) {
    throw new Error(
      `no local environment is running in ${dir}: start one with ` +
        `"npx enforce-local up --dir ${dir} --clusters 2", or point the config key localEnvDir at one`,
    );
  }
  const env = JSON.parse(fs.readFileSync(file, "utf8")) as LocalEnvironment;
  if (env.clusters.length < 2 || !env.enforce) {
    throw new Error(`the environment in ${dir} needs two clusters and the Enforce emulator`);
  }
  return env;
}

export = async () => {
  const config = new pulumi.Config();
  const env = readEnvironment(path.resolve(config.get("localEnvDir") ?? ".local"));
  const group = config.get("group") ?? env.enforce!.group;
  const [first, second] = env.clusters as [
    LocalEnvironment["clusters"][0],
    LocalEnvironment["clusters"][0],
  ];

  const kubeconfig = (file: string) => pulumi.secret(fs.readFileSync(file, "utf8"));
  const connections = [
    new EnforceClusterConnection(first.name, {
      kubeconfig: kubeconfig(first.kubeconfig),
      group,
      description: "local cluster, public issuer",
      exposeIssuerDiscovery: true,
    }),
    new EnforceClusterConnection(second.name, {
      kubeconfig: kubeconfig(second.kubeconfig),
      group,
      description: "local cluster, private issuer",
      connectivity: "private",
      renewAfter: config.get("renewAfter") ?? "25d",
    }),
  ];

  // Enforcement is opt-in per namespace. Set createNamespaces to false where the Kubernetes
  // provider plugin is not installed.
  if (config.getBoolean("createNamespaces") ?? true) {
    [first, second].forEach((cluster, i) => {
      const provider = new k8s.Provider(cluster.name, {
        kubeconfig: kubeconfig(cluster.kubeconfig),
      });
      new k8s.core.v1.Namespace(
        `${cluster.name}-apps`,
        { metadata: { name: "apps", labels: { "policy.sigstore.dev/include": "true" } } },
        { provider, dependsOn: [connections[i]!] },
      );
    });
  }

  return {
    clusters: Object.fromEntries(
      connections.map((c, i) => [
        env.clusters[i]!.name,
        {
          clusterId: c.clusterId,
          connectivity: c.connectivity,
          issuer: c.issuer,
          registeredAt: c.registeredAt,
          renewAt: c.renewAt,
        },
      ]),
    ),
  };
};
