/**
 * What the lifecycle operations work with, injected so tests can supply their own clock,
 * clients and progress sink. {@link defaultContext} is what the provider uses.
 * @module
 */

import type { KubeClient, KubeconfigSource } from "../kube/client";
import { sharedKubeClients } from "../kube/pool";
import { platformClientFromConfig, type PlatformClient, type PlatformConfig } from "../platform";
import { newConnectionId } from "../install/ownership";
import { agentPlatformOf, type AgentPlatform } from "../install/platform-settings";
import { engineLog } from "./engine-log";

/** The dependencies of create, update, read and delete. */
export interface LifecycleContext {
  /** A client of the cluster a kubeconfig names; the operation closes it when done. */
  connect(source: KubeconfigSource): Promise<KubeClient>;
  /** A platform client; the operation closes it. */
  platform(): PlatformClient;
  /** Where the agent is told to find the platform: the same settings the client uses. */
  agentPlatform(): AgentPlatform;
  now(): Date;
  /**
   * One line of progress for the person running Pulumi; `transient` lines (a wait's periodic
   * "still waiting") only update the resource's status.
   */
  progress: (line: string, transient?: boolean) => void;
  newConnectionId(): string;
  /** Poll interval while waiting for registration. @default 1000 */
  registrationPollMs?: number;
  /** How often a wait prints that it is still waiting. @default 10000 */
  progressEveryMs?: number;
}

/**
 * The provider's context for the resource `urn`: the platform settings `platformConfig` resolves
 * (the provider's configuration, then the environment), progress through the engine (shown with
 * the resource), or on stderr when not run by the engine.
 */
export function defaultContext(
  urn: string,
  platformConfig: () => PlatformConfig,
): LifecycleContext {
  const log = engineLog(urn);
  return {
    connect: (source) => sharedKubeClients.connect(source),
    platform: () => platformClientFromConfig(platformConfig()),
    agentPlatform: () => agentPlatformOf(platformConfig()),
    now: () => new Date(),
    progress: (line, transient = false) =>
      log ? log(line, transient) : process.stderr.write(`pulumi-enforce: ${line}\n`),
    newConnectionId,
  };
}
