/**
 * What the lifecycle operations work with, injected so tests can supply their own clock,
 * clients and progress sink. {@link defaultContext} is what the provider uses.
 * @module
 */

import { platformConfig } from "../configure";
import { KubeClient, type KubeconfigSource } from "../kube/client";
import { platformClientFromConfig, type PlatformClient } from "../platform";
import { newConnectionId } from "../install/ownership";

/** The dependencies of create, update, read and delete. */
export interface LifecycleContext {
  /** Opens a client of the cluster a kubeconfig names. */
  connect(source: KubeconfigSource): Promise<KubeClient>;
  /** A platform client; the operation closes it. */
  platform(): PlatformClient;
  now(): Date;
  /** One line of progress for the person running Pulumi. */
  progress(line: string): void;
  newConnectionId(): string;
  /** Poll interval while waiting for registration. @default 1000 */
  registrationPollMs?: number;
  /** How often a wait prints that it is still waiting. @default 10000 */
  progressEveryMs?: number;
}

/**
 * The provider's context: platform settings from `configure` and the environment, progress on
 * the provider's stderr, which the Pulumi engine shows with the resource.
 */
export function defaultContext(): LifecycleContext {
  return {
    connect: (source) => KubeClient.load(source),
    platform: () => platformClientFromConfig(platformConfig()),
    now: () => new Date(),
    progress: (line) => process.stderr.write(`pulumi-enforce: ${line}\n`),
    newConnectionId,
  };
}
