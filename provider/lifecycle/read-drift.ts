/**
 * Drift detection for `read` (refresh): the agent's objects rendered from the stored state, as
 * the last `up` applied them, compared with what the cluster holds now. Only refresh pays for
 * it; `check` and `diff` (every preview) read the list it stored.
 * @module
 */

import {
  credentialsDrift,
  driftedObject,
  installationDrift,
  listDrift,
  restoreHow,
} from "../install/drift";
import { readLiveObjects } from "../install/live-objects";
import { agentObjects, issuerBindingObject, type KubeObject } from "../install/manifests";
import { AGENT_NAMESPACE, CREDS_SECRET } from "../install/names";
import { summarizePlatform } from "../install/platform-settings";
import type { KubeClient } from "../kube/client";
import { sameJson } from "../util/json";
import type { LifecycleContext } from "./context";
import type { ConnectionState } from "./state";

/** Where `mcp-creds` is; its contents are not rendered (the invite code is not kept). */
const CREDS: KubeObject = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: CREDS_SECRET, namespace: AGENT_NAMESPACE },
};

/**
 * The installation's drift, sorted (see `../install/drift`), said in one progress line when
 * there is any; undefined when the configured platform is not the installed one (then the
 * expected objects are not known, and `up` applies all of them again anyway).
 */
export async function detectDrift(
  ctx: LifecycleContext,
  kube: KubeClient,
  state: ConnectionState,
): Promise<string[] | undefined> {
  const platform = ctx.agentPlatform();
  if (!sameJson(summarizePlatform(platform), state.platform)) return undefined;
  const desired = agentObjects({ ...state, platform });
  if (state.ownsIssuerBinding) desired.push(issuerBindingObject(state));
  const live = await readLiveObjects(kube, state.connectionId, [...desired, CREDS]);
  const creds = live.find((o) => o.kind === "Secret" && o.metadata.name === CREDS_SECRET);
  const identityId = state.connectivity === "private" ? state.identityId : "";
  const drift = [
    ...installationDrift(desired, live),
    ...credentialsDrift(creds, { identityId }),
  ].sort();
  if (drift.length > 0) ctx.progress(driftMessage(state, drift));
  return drift;
}

/** What refresh says about drift: the objects and fields, and what `up` does about them. */
export function driftMessage(state: ConnectionState, drift: readonly string[]): string {
  const objects = new Set(drift.map(driftedObject)).size;
  return (
    `connection "${state.clusterName}": ${objects} of the agent's objects changed outside Pulumi: ` +
    `${listDrift(drift, 20)}; \`pulumi up\` restores them (${restoreHow(state, drift)})`
  );
}
