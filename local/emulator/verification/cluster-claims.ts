/**
 * What a cluster's agent token must claim: the audience and subject the provider's checks and
 * installer use (`provider/install/names.ts`), so the two cannot disagree.
 */
import { AGENT_AUDIENCE, AGENT_SUBJECT } from "../../../provider/install/names";

/** The audience of the agent's projected service-account token. */
export const CLUSTER_AUDIENCE = AGENT_AUDIENCE;
/** The agent's service account, as a token subject. */
export const CLUSTER_SUBJECT = AGENT_SUBJECT;
