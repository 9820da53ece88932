/**
 * Cluster checks that `check` started and `diff` awaits, for an engine that runs diffs
 * concurrently (`PULUMI_PARALLEL_DIFF=true`): the engine calls `check` for one resource at a
 * time, so a fleet's checks overlap only when their waiting happens in `diff`.
 * @module
 */

import { CheckFailedError } from "../errors";
import type { ConnectionCheckResult } from "./check-connection";
import type { RecentChecks } from "./recent-checks";

/** Whether the engine that started this process runs `diff` concurrently. */
export function engineDiffsConcurrently(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true)$/i.test(env.PULUMI_PARALLEL_DIFF ?? "");
}

interface Pending {
  /** The checked inputs `check` returned: what `create` or `update` will be given. */
  inputs: Record<string, unknown>;
  later: Promise<ConnectionCheckResult>;
}

/** The checks in flight, by URN; `diff` takes each once. */
export class PendingChecks {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly recent: RecentChecks) {}

  /** Keeps a deferred check of `urn` for its `diff`. */
  start(urn: string, inputs: Record<string, unknown>, later: Promise<ConnectionCheckResult>): void {
    // A check nobody awaits (the operation ended first) must not end the process.
    later.catch(() => undefined);
    this.pending.set(urn, { inputs, later });
  }

  /**
   * The fresh checked inputs of `urn`'s deferred check, once it finished; undefined when none is
   * pending. Its observations go on to the apply after the diff ({@link RecentChecks}).
   * @throws CheckFailedError with the failures `check` would have returned.
   */
  async settle(urn: string): Promise<Record<string, unknown> | undefined> {
    const entry = this.pending.get(urn);
    if (!entry) return undefined;
    this.pending.delete(urn);
    const result = await entry.later;
    if (result.failures.length > 0) throw new CheckFailedError(result.failures);
    if (result.facts) this.recent.remember(urn, entry.inputs, result.facts);
    return result.inputs;
  }
}
