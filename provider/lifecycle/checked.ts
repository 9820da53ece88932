/**
 * The checked inputs: what the provider's `check` hands to `diff`, `create` and `update`. The
 * normalized inputs, plus what `check` observed in the cluster and the settings it added.
 * @module
 */

import type { NormalizedInputs, UNKNOWN_VALUE } from "../inputs";
import type { PlatformSummary } from "../install/platform-settings";

/** The checked-inputs key that holds {@link Observed}. */
export const OBSERVED_KEY = "observed";

/** What `check` saw in the cluster, kept in the checked inputs for `diff`. */
export interface Observed {
  /** Key id in a freshly minted token's header: the key that signs now. */
  activeKeyId: string;
  /** UID of the `gulfstream` Namespace, `""` when it does not exist. */
  agentNamespaceUid: string;
  /** UID of the `kube-system` Namespace: which cluster this is. */
  clusterUid: string;
  /** `connectivity` resolved against the cluster: `"public"` or `"private"`. */
  connectivity: string;
  /** The service account issuer from the discovery document. */
  issuer: string;
  /** Every key id the JWKS publishes, sorted. */
  signingKeyIds: string[];
}

/** The checked inputs: the normalized inputs plus what was observed, keys sorted. */
export type CheckedInputs = NormalizedInputs & {
  observed: Observed | typeof UNKNOWN_VALUE;
  /** The platform settings the agent will be given, from the provider's configuration. */
  platform: PlatformSummary;
  /** The resource's URN when the SDK passed one (`""` otherwise). */
  resourceUrn: string;
};
