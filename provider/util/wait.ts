/**
 * Polling with a deadline.
 * @module
 */

import { EnforceError } from "./errors";

/**
 * {@link waitFor}'s deadline passed. Callers that know what to advise wrap it in an error of
 * their own (deleting objects: `DeleteTimeoutError`), with this one as `cause`.
 */
export class WaitTimeoutError extends EnforceError {
  static readonly code = "ERR_WAIT_TIMEOUT";
  override readonly code = WaitTimeoutError.code;

  constructor(
    /** What was awaited, e.g. `Namespace gulfstream to be deleted`. */
    readonly what: string,
    /** How long it waited, in milliseconds. */
    readonly timeoutMs: number,
    /** What the probe last said: its last error's message, or `no answer yet`. */
    readonly last: string,
  ) {
    super(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what} (last: ${last})`);
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, or throws a
 * {@link WaitTimeoutError} when `timeoutMs` passes. The error says what was awaited and what
 * was last seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "no answer yet";
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(what, opts.timeoutMs, last);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
