/**
 * The run context that `create` and `update` pass from step to step: the request, the clients,
 * the state being built, and what the earlier steps decided. {@link partialFailure} is the one
 * place that decides how a failed run is reported.
 * @module
 */

import { normalizedOf, resourceUrnOf, type CheckedInputs } from "../checked";
import type { ClusterFacts } from "../../checks/cluster-checks";
import { PartialFailureError } from "../../errors";
import type { NormalizedInputs } from "../../inputs";
import type { KubeClient } from "../../kube/client";
import type { Cluster, PlatformClient } from "../../platform";
import type { AgentNamespace } from "../../install/installation";
import type { KubeObject } from "../../install/manifests";
import {
  summarizePlatform,
  type AgentPlatform,
  type PlatformSummary,
} from "../../install/platform-settings";
import type { LifecycleContext } from "../context";
import { sameJson } from "../../util/json";
import { toOutputs, type ConnectionState } from "../state";
import { initialState } from "../state";

/** What `applyConnection` applies. */
export interface ApplyRequest {
  connectionId: string;
  /** The checked inputs (`check`'s result). */
  inputs: CheckedInputs;
  /** The stored state, for an update; absent for a create. */
  previous?: ConnectionState;
  /**
   * What the `check` that returned `inputs` observed a moment ago, with no problem found: the
   * apply starts from these instead of checking the cluster again.
   */
  facts?: ClusterFacts;
}

/** How the configured platform differs from the one the previous apply installed. */
export interface PlatformMove {
  /** Told of other platform settings, the agent registers anew, with an invite of that platform. */
  changed: boolean;
  /** Another platform API: what the previous one holds is out of reach of this one's token. */
  moved: boolean;
}

/** Where the agent's installation stood before this run changed anything. */
export interface Installation {
  /** The agent namespace; undefined when it does not exist. */
  namespace: AgentNamespace | undefined;
  /** The platform's registration of that installation in the connection's group. */
  current: Cluster | undefined;
  /** A registration of that installation in another group. */
  elsewhere: Cluster | undefined;
}

/** One `create` or `update` in progress. */
export interface ConnectionRun {
  readonly ctx: LifecycleContext;
  readonly connectionId: string;
  readonly inputs: NormalizedInputs;
  /** The stored state, for an update. */
  readonly previous: ConnectionState | undefined;
  /** The state being built: what the run returns, or reports on a partial failure. */
  readonly state: ConnectionState;
  readonly platform: PlatformClient;
  readonly kube: KubeClient;
  /** The platform settings the agent is given. */
  readonly agentPlatform: AgentPlatform;
  /** The summary of {@link agentPlatform} kept in state. */
  readonly installedPlatform: PlatformSummary;
  readonly move: PlatformMove;
  /** What the `check` just before observed, when the request carried it. */
  readonly checkedFacts: ClusterFacts | undefined;
  /** What the cluster checks observed; set by `observeCluster`. */
  facts?: ClusterFacts;
  /** Set by `locateInstallation`. */
  installation: Installation;
  /** Whether the agent registers (again) in this run; decided by `locateInstallation`. */
  register: boolean;
  /** The invite the agent registers with, when it registers. */
  invite?: { id: string; code: string };
  /**
   * Identities the agent no longer uses, deleted once it registered. A Set: the same identity
   * can be superseded twice over (the previous state, and by name).
   */
  readonly superseded: Set<string>;
  /** The agent's credentials Secret; set by `install`. */
  secret?: KubeObject;
  /** Keys of the objects the inputs ask for; what else the connection owns is pruned. */
  wanted: string[];
  /** Whether anything in the cluster or on the platform may have changed yet. */
  changed: boolean;
}

/** The step signature: each reads and extends the run. */
export type ApplyStep = (run: ConnectionRun) => Promise<void>;

/**
 * Starts a run: the request's inputs and state, the agent's platform settings, and a client of
 * the cluster (opened last, so that nothing is left open when an earlier part fails).
 */
export async function startRun(
  ctx: LifecycleContext,
  req: ApplyRequest,
  platform: PlatformClient,
): Promise<ConnectionRun> {
  const { connectionId, previous } = req;
  const inputs = normalizedOf(req.inputs);
  const state = initialState(connectionId, inputs, previous);
  state.resourceUrn = resourceUrnOf(req.inputs);
  const agentPlatform = ctx.agentPlatform();
  const installedPlatform = summarizePlatform(agentPlatform);
  const move = platformMove(previous, installedPlatform);
  const kube = await ctx.connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  return {
    ctx,
    connectionId,
    inputs,
    previous,
    state,
    platform,
    kube,
    agentPlatform,
    installedPlatform,
    move,
    checkedFacts: req.facts,
    installation: { namespace: undefined, current: undefined, elsewhere: undefined },
    register: false,
    superseded: new Set(),
    wanted: [],
    changed: false,
  };
}

/** How the configured platform settings differ from those the previous apply installed. */
export function platformMove(
  previous: ConnectionState | undefined,
  installed: PlatformSummary,
): PlatformMove {
  // States written before the agent was given platform settings have an empty summary.
  const before = previous?.platform.apiUrl ? previous.platform : undefined;
  return {
    changed: !!before && !sameJson(before, installed),
    moved: !!before && before.apiUrl !== installed.apiUrl,
  };
}

/** The owner labels of what the run installs. */
export function ownerOf(run: ConnectionRun): { connectionId: string; clusterName: string } {
  return { connectionId: run.connectionId, clusterName: run.inputs.clusterName };
}

/**
 * What a failed run rejects with. Before anything changed, the cause as is; afterwards a
 * {@link PartialFailureError} carrying the state reached, so that the engine keeps the resource
 * and the next `up` (or `destroy`) can finish.
 */
export function partialFailure(run: ConnectionRun | undefined, err: unknown): unknown {
  if (!run?.changed) return err;
  const registered = run.state.clusterId !== "";
  return new PartialFailureError(run.connectionId, toOutputs(run.state), err as Error, registered);
}
