/**
 * Fault injection: rules that make matching calls fail the way a real platform fails (500, 503,
 * 429 with `Retry-After`, or a connection dropped without an answer), so that tests drive the
 * provider's real platform client through them instead of mocking it. Off unless the emulator
 * is started with `faultInjection` (`--fault-injection`); set through `/_emulator/v1/faults`
 * (see `api/faults.ts`), never applied to the `/_emulator/` endpoints themselves.
 */

/** How a faulted call fails. */
export type FaultAction =
  /** Answer with this status and a grpc-gateway body. */
  | { status: 429 | 500 | 503; retryAfterSeconds?: number }
  /** Destroy the connection without an answer. */
  | { drop: true };

/** A rule as set by a test. */
export interface FaultSpec {
  action: FaultAction;
  /** Only calls with this method (e.g. `POST`). @default every method */
  method?: string;
  /** Only calls whose path starts with this. @default every path but `/_emulator/` */
  path?: string;
  /** Only the next this many matching calls. @default unlimited */
  times?: number;
  /** Only until this time (ms since the epoch, by the emulator's clock). @default unlimited */
  untilMs?: number;
  /**
   * Fail after the call took effect (the handler ran, its answer is replaced), as when a platform
   * commits and then loses the connection. @default false: the call never reaches the handler
   */
  afterHandling?: boolean;
}

/** A rule with its id and how many calls it failed so far. */
export interface FaultRule extends FaultSpec {
  id: number;
  hits: number;
}

/** Paths no rule touches: the emulator's own endpoints (audit trail, faults). */
const CONTROL_PREFIX = "/_emulator/";

/** The active fault rules of one emulator. */
export class FaultRules {
  #rules: FaultRule[] = [];
  #nextId = 1;

  /** Adds a rule; it applies to calls that arrive from now on. */
  add(spec: FaultSpec): FaultRule {
    const rule: FaultRule = { ...spec, id: this.#nextId++, hits: 0 };
    this.#rules.push(rule);
    return rule;
  }

  /** The rules still in force at `nowMs`, oldest first. */
  list(nowMs: number): FaultRule[] {
    this.#expire(nowMs);
    return this.#rules.map((r) => ({ ...r }));
  }

  /** Removes every rule; returns how many there were. */
  clear(): number {
    const count = this.#rules.length;
    this.#rules = [];
    return count;
  }

  /**
   * The rule that fails this call, counted as one of its hits, or undefined. The oldest matching
   * rule wins; a rule whose `times` are used up, or whose time is over, is removed.
   */
  take(method: string, path: string, nowMs: number): FaultRule | undefined {
    if (path.startsWith(CONTROL_PREFIX)) return undefined;
    this.#expire(nowMs);
    const rule = this.#rules.find(
      (r) =>
        (r.method === undefined || r.method === method) &&
        (r.path === undefined || path.startsWith(r.path)),
    );
    if (!rule) return undefined;
    rule.hits += 1;
    if (rule.times !== undefined && rule.hits >= rule.times) {
      this.#rules = this.#rules.filter((r) => r !== rule);
    }
    return { ...rule };
  }

  #expire(nowMs: number): void {
    this.#rules = this.#rules.filter((r) => r.untilMs === undefined || nowMs < r.untilMs);
  }
}
