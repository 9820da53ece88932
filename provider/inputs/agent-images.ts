/**
 * The agent's container images, by the names `agentImages` overrides use.
 *
 * The agent is one StatefulSet (`gulfstream/meta-controlplane`) with two containers, each with
 * its own image; the admission webhook is served by the controller container, so it has no
 * image of its own. Names follow the image repositories, which is what a mirror is organised by.
 * The defaults are the references pinned by the last published version of the vendor's
 * `enforce-agent` Helm chart (tag and digest), so a mirror can copy exactly these.
 * @module
 */

/** An agent image and the container that runs it. */
export interface AgentImage {
  /** Container name in the `meta-controlplane` StatefulSet. */
  container: string;
  /** Reference used when `agentImages` does not override it. */
  defaultReference: string;
  /** What the container does, for documentation. */
  role: string;
}

/** A name accepted as a key of `agentImages`: `"chainctl"` or `"controlplane"`. */
export type AgentImageName = "chainctl" | "controlplane";

/** The agent images, keyed by the name an `agentImages` override uses. */
export const AGENT_IMAGES = {
  chainctl: {
    container: "sts",
    defaultReference:
      "us.gcr.io/prod-enforce-fabc/chainctl:v0.1.255@sha256:8e723294372f3f49c8ebf3603fcdd53f89f244b595859753b85882efea3a66de",
    role: "token exchange sidecar: registers the cluster with the invite code, then trades the service account token at the issuer's STS",
  },
  controlplane: {
    container: "controller",
    defaultReference:
      "us.gcr.io/prod-enforce-fabc/controlplane:v0.1.255@sha256:56902c6ef08f2094ecb14c090274b58efd0bbf28fd8f456a3bd18697d64ecfba",
    role: "the agent's controllers and its admission webhook",
  },
} as const satisfies Record<AgentImageName, AgentImage>;

/** All agent image names, sorted. */
export const AGENT_IMAGE_NAMES = Object.keys(AGENT_IMAGES).sort() as AgentImageName[];

/** Type guard for {@link AgentImageName}. */
export function isAgentImageName(name: string): name is AgentImageName {
  return Object.hasOwn(AGENT_IMAGES, name);
}
