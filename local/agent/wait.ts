/**
 * Waiting helpers of the agent: abortable sleeps, a wake-up latch and
 * exponential backoff. Kept apart so the loops read as state machines.
 */

/** Rejection reason of the helpers when the agent is stopping. */
export class StoppedError extends Error {
  readonly code = "ERR_AGENT_STOPPED";
  constructor() {
    super("the agent is stopping");
    this.name = "StoppedError";
  }
}

/** Settles like `promise`, or rejects with {@link StoppedError} as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new StoppedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * A latch the watch pokes when something changed. `wait` returns at once if a
 * poke came since the last wait (so nothing is lost while the agent was busy),
 * otherwise after `ms`, on the next poke, or when `signal` aborts.
 */
export class Wakeup {
  private poked = false;
  private release: (() => void) | undefined;

  poke(): void {
    this.poked = true;
    this.release?.();
  }

  /** Resolves with true when poked, false on timeout or abort. */
  wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.poked || signal.aborted) {
      const was = this.poked;
      this.poked = false;
      return Promise.resolve(was);
    }
    return new Promise<boolean>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        this.release = undefined;
        const was = this.poked;
        this.poked = false;
        resolve(was);
      };
      // Infinity is not a valid timer delay; a day is as good as forever here.
      const timer = setTimeout(finish, Math.min(ms, 86_400_000));
      signal.addEventListener("abort", finish, { once: true });
      this.release = finish;
    });
  }
}

/** Sleeps `ms`, or less if `signal` aborts first (then it resolves, not rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Wakeup().wait(ms, signal).then(() => undefined);
}

/**
 * Delay before retry number `attempt` (0-based): doubling from `baseMs`,
 * capped at `maxMs`, with the upper half jittered so that many agents do not
 * retry in step.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
