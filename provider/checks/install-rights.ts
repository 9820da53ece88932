/**
 * Whether the kubeconfig's credentials may install the agent, asked of the API server before
 * anything is installed: one SelfSubjectAccessReview for everything (what cluster-admin holds),
 * and only when that is denied, one for each right the installation needs
 * (`../install/rights.ts`), all at once. The failure names every right missing.
 * @module
 */

import { describeResource, installRights, type Right } from "../install/rights";
import type { KubeClient } from "../kube/client";
import type { Problem } from "./cluster-checks";

const REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/** Every verb on every resource: granted to cluster-admin and the like. */
const EVERYTHING: Right = { verb: "*", group: "*", resource: "*" };

/**
 * A problem naming the rights the credentials lack, or undefined when they hold them all. A
 * review the API server does not answer proves nothing either way: the other checks report why
 * the cluster cannot be talked to.
 */
export async function checkInstallRights(client: KubeClient): Promise<Problem | undefined> {
  try {
    if (await allowed(client, EVERYTHING)) return undefined;
    const rights = installRights();
    const answers = await Promise.all(rights.map((right) => allowed(client, right)));
    const missing = rights.filter((_, i) => !answers[i]);
    return missing.length ? rightsProblem(missing) : undefined;
  } catch {
    return undefined;
  }
}

/** One SelfSubjectAccessReview. */
async function allowed(client: KubeClient, right: Right): Promise<boolean> {
  const review = await client.post<{ status?: { allowed?: boolean } }>(REVIEWS, {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: right },
  });
  return review.body.status?.allowed === true;
}

function rightsProblem(missing: Right[]): Problem {
  const verbsByResource = new Map<string, string[]>();
  for (const right of missing) {
    const resource = describeResource(right);
    verbsByResource.set(resource, [...(verbsByResource.get(resource) ?? []), right.verb]);
  }
  const lacking = [...verbsByResource].map(
    ([resource, verbs]) => `${verbs.join(", ")} ${resource}`,
  );
  return {
    check: "installRights",
    property: "kubeconfig",
    reason:
      `the kubeconfig's credentials may not do everything installing the agent needs (the API server's ` +
      `SelfSubjectAccessReview denied ${missing.length} of ${installRights().length} rights): they may not ${lacking.join("; ")}`,
    remedy:
      "Use credentials that hold these rights, e.g. a cluster-admin kubeconfig, or grant them to these " +
      '("kubectl auth can-i --list" shows what the current credentials may do; nothing was installed).',
  };
}
