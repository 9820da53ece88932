/**
 * Step 1, observe the cluster: the prerequisites `check` verified must still hold, and what the
 * cluster shows (connectivity, issuer, signing keys, which cluster it is) goes into the state.
 * @module
 */

import { checkCluster, type ClusterFacts } from "../../checks/cluster-checks";
import { PrerequisiteError } from "../../errors";
import type { ConnectionState } from "../state";
import type { ConnectionRun } from "./run";

/** The cluster checks; a parameter so that tests can supply their own. */
export type ClusterCheck = typeof checkCluster;

/**
 * Runs the cluster checks, unless the run starts from what its `check` observed a moment ago;
 * rejects with a {@link PrerequisiteError} (nothing changed yet) when a prerequisite fails, and
 * records the facts otherwise.
 */
export async function observeCluster(
  run: ConnectionRun,
  check: ClusterCheck = checkCluster,
): Promise<void> {
  const { facts, problems } = run.checkedFacts
    ? { facts: run.checkedFacts, problems: [] }
    : await check(run.kube, {
        connectivity: run.inputs.connectivity,
        exposeIssuerDiscovery: run.inputs.exposeIssuerDiscovery,
        // Before the first install: whether these credentials may install it at all.
        installRights: !run.previous,
      });
  if (problems.length > 0) throw new PrerequisiteError(problems);
  run.facts = facts;
  recordFacts(run.state, facts);
}

/** Copies what the checks observed into the state; connectivity resolves to public or private. */
export function recordFacts(state: ConnectionState, facts: ClusterFacts): void {
  state.connectivity = facts.connectivity === "public" ? "public" : "private";
  state.issuer = facts.issuer;
  state.signingKeyIds = [...facts.signingKeyIds].sort();
  state.clusterUid = facts.clusterUid;
}
