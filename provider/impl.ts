/**
 * The implementation behind the provider shim of `./dynamic`: what the shim stored in state loads
 * at run time, from this package's installed version. Its export is a contract with every shim
 * already in some stack's state ({@link ProviderImplementation}): keep it stable.
 * @module
 */

import type * as pulumi from "@pulumi/pulumi";
import { checkConnection } from "./lifecycle/check-connection";
import { UNCONFIGURED, configure, type ProviderConfig } from "./configure";
import type { ProviderImplementation } from "./dynamic";
import { PartialFailureError } from "./errors";
import { withPlainErrors } from "./plain-errors";
import { applyConnection } from "./lifecycle/apply-connection";
import { resourceUrnOf, type CheckedInputs } from "./lifecycle/checked";
import { defaultContext, type LifecycleContext } from "./lifecycle/context";
import { deleteConnection } from "./lifecycle/delete-connection";
import { diffConnection } from "./lifecycle/diff";
import { explainDiff } from "./lifecycle/explain-diff";
import { readConnection } from "./lifecycle/read-connection";
import { RecentChecks } from "./lifecycle/recent-checks";
import { PendingChecks, engineDiffsConcurrently } from "./lifecycle/pending-checks";
import { fromOutputs, toOutputs } from "./lifecycle/state";

/** Inputs, outputs and state as the engine passes them: untyped until checked or decoded. */
type Props = Record<string, unknown>;

/** The engine's key for the serialized provider, which partial-failure properties must keep. */
const PROVIDER_KEY = "__provider";

/**
 * Builds the lifecycle context of one operation on the resource `urn`, given what the provider
 * was configured with.
 */
export type ContextFactory = (urn: string, config: ProviderConfig) => LifecycleContext;

/** The default {@link ContextFactory}: {@link defaultContext} with the configured settings. */
const defaultContextOf: ContextFactory = (urn, config) =>
  defaultContext(urn, () => config.platformConfig());

/** The provider's operations with their dependencies given; the exported one uses the defaults. */
export function createImplementation(
  contextOf: ContextFactory = defaultContextOf,
): ProviderImplementation {
  // What `configure` produced; each configure replaces what the previous one gave.
  let config = UNCONFIGURED;
  const context = (urn: string) => contextOf(urn, config);
  // Connections this process refreshed and has not checked since: `pulumi refresh` runs `read`,
  // then `diff` against the inputs stored with the last apply, without a `check` between.
  const refreshed = new Set<string>();
  // What each connection's last check observed, for the create or update right after it.
  const recent = new RecentChecks();
  // Checks started by `check` for `diff` to await, when the engine runs diffs concurrently.
  const pending = new PendingChecks(recent);
  const defer = engineDiffsConcurrently();
  return {
    async configure(req) {
      config = configure(req);
    },
    async check(olds: Props | undefined, news: Props) {
      const urn = resourceUrnOf(news);
      refreshed.delete(urn);
      const { inputs, failures, facts, later } = await checkConnection(olds ?? {}, news, {
        agentPlatform: () => context(urn).agentPlatform(),
        defer: defer && urn !== "",
      });
      recent.forget(urn);
      if (later) pending.start(urn, inputs, later);
      else if (facts && failures.length === 0) recent.remember(urn, inputs, facts);
      return { inputs, failures };
    },
    async diff(_id: string, olds: Props, given: Props): Promise<pulumi.dynamic.DiffResult> {
      const urn = resourceUrnOf(given);
      const ctx = context(urn);
      // A deferred check's observations replace the last check's, which `check` returned.
      const news = (await pending.settle(urn)) ?? given;
      const state = fromOutputs(olds);
      const opts = { stale: urn !== "" && refreshed.has(urn) };
      const diff = diffConnection(state, news, ctx.now(), opts);
      // What the CLI cannot show of a dynamic resource's diff, shown with the resource.
      const sentence = explainDiff(state, news, diff, opts);
      if (sentence) ctx.progress(sentence);
      const { changes, replaces, deleteBeforeReplace } = diff;
      return { changes, replaces, deleteBeforeReplace };
    },
    async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
      const urn = resourceUrnOf(inputs);
      const ctx = context(urn);
      const connectionId = ctx.newConnectionId();
      const facts = recent.take(urn, inputs);
      const state = await keepProvider(inputs, () =>
        applyConnection(ctx, { connectionId, inputs: inputs as CheckedInputs, facts }),
      );
      return { id: connectionId, outs: toOutputs(state) };
    },
    async update(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
      const previous = fromOutputs(olds);
      const urn = resourceUrnOf(news);
      const facts = recent.take(urn, news);
      const state = await keepProvider(news, () =>
        applyConnection(context(urn), {
          connectionId: previous.connectionId || id,
          inputs: news as CheckedInputs,
          previous,
          facts,
        }),
      );
      return { outs: toOutputs(state) };
    },
    async read(id: string, props: Props | undefined): Promise<pulumi.dynamic.ReadResult> {
      const state = fromOutputs(props ?? {});
      const read = await readConnection(context(state.resourceUrn), state);
      if (state.resourceUrn) refreshed.add(state.resourceUrn);
      // An empty id tells the engine the resource is gone.
      if (!read) return { id: "", props: {} };
      return { id, props: toOutputs(read) };
    },
    async delete(_id: string, props: Props): Promise<void> {
      const state = fromOutputs(props);
      await deleteConnection(context(state.resourceUrn), state);
    },
  };
}

/**
 * Runs an apply; a partial failure's properties get the serialized provider from the inputs,
 * since the engine stores them as the resource's outputs and later operations load the
 * provider from there.
 */
async function keepProvider<T>(inputs: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PartialFailureError && inputs[PROVIDER_KEY] !== undefined) {
      err.properties = { ...err.properties, [PROVIDER_KEY]: inputs[PROVIDER_KEY] };
    }
    throw err;
  }
}

/** The provider's operations; the shim forwards each call here. */
export const implementation: ProviderImplementation = withPlainErrors(createImplementation());
