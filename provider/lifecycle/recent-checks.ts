/**
 * What a connection's `check` observed, kept in the provider process for the `create` or
 * `update` that the engine runs right after it with the same checked inputs, so that the apply
 * does not send the same requests again. Kept briefly, used once, and only for exactly the
 * checked inputs the check returned.
 * @module
 */

import type { ClusterFacts } from "../checks/cluster-checks";
import { sameJson } from "../util/json";

/** The engine's key for the serialized provider, which it adds to the checked inputs. */
const PROVIDER_KEY = "__provider";

/** How long a check's observations stand in for the apply's own. */
export const RECENT_CHECK_MS = 30_000;

interface Entry {
  inputs: Record<string, unknown>;
  facts: ClusterFacts;
  at: number;
}

/** The last successful check of each connection (by URN) in this process. */
export class RecentChecks {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps what a check of `urn` with no failures observed, with the checked inputs it returned. */
  remember(urn: string, inputs: Record<string, unknown>, facts: ClusterFacts): void {
    if (!urn) return;
    const at = this.now();
    for (const [key, entry] of this.entries) {
      if (at - entry.at > RECENT_CHECK_MS) this.entries.delete(key);
    }
    this.entries.set(urn, { inputs, facts, at });
  }

  /**
   * The facts of the last check of `urn` if it returned exactly `inputs` (the engine's
   * `__provider` aside) less than {@link RECENT_CHECK_MS} ago; each is given out once.
   */
  take(urn: string, inputs: Record<string, unknown>): ClusterFacts | undefined {
    const entry = this.entries.get(urn);
    if (!entry) return undefined;
    this.entries.delete(urn);
    const { [PROVIDER_KEY]: _provider, ...checked } = inputs;
    const fresh = this.now() - entry.at <= RECENT_CHECK_MS;
    return fresh && sameJson(checked, entry.inputs) ? entry.facts : undefined;
  }

  /** Forgets `urn`'s check (a later check failed, or observed nothing). */
  forget(urn: string): void {
    this.entries.delete(urn);
  }
}
