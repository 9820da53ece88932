/**
 * The agent stand-in's bootstrap credential: what a kubelet needs to run the agent's pod, and
 * nothing more. It may read the agent's StatefulSet (the pod's spec) and mint tokens for the
 * agent's ServiceAccount (token projection). Everything else the stand-in does, it does with
 * those tokens, so the RBAC the connection installed decides what it may do.
 */
import { AGENT_SERVICE_ACCOUNT, AGENT_STATEFULSET } from "../../provider/install/names";
import { post, type TlsMaterial } from "./probe";

/** The user name in the bootstrap credential's client certificate. */
export const BOOTSTRAP_USER = "enforce-local:agent-kubelet";

const RBAC = "rbac.authorization.k8s.io";

/** The ClusterRole and its binding, applied once per cluster (by name, in any namespace). */
function bootstrapRbac(): { path: string; body: Record<string, unknown> }[] {
  const name = BOOTSTRAP_USER;
  return [
    {
      path: `/apis/${RBAC}/v1/clusterroles`,
      body: {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRole",
        metadata: { name },
        rules: [
          {
            apiGroups: ["apps"],
            resources: ["statefulsets"],
            resourceNames: [AGENT_STATEFULSET],
            verbs: ["get"],
          },
          {
            apiGroups: [""],
            resources: ["serviceaccounts/token"],
            resourceNames: [AGENT_SERVICE_ACCOUNT],
            verbs: ["create"],
          },
        ],
      },
    },
    {
      path: `/apis/${RBAC}/v1/clusterrolebindings`,
      body: {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name },
        subjects: [{ apiGroup: RBAC, kind: "User", name }],
      },
    },
  ];
}

/** Creates the bootstrap RBAC with admin credentials; an object that exists already is kept. */
export async function grantBootstrap(server: string, admin: TlsMaterial): Promise<void> {
  for (const { path, body } of bootstrapRbac()) {
    const res = await post(`${server}${path}`, admin, body);
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(
        `creating ${String(body.kind)} ${BOOTSTRAP_USER}: HTTP ${res.status} ${res.body}`,
      );
    }
  }
}
