/**
 * Polls `probe` until it returns a value other than undefined, or throws when
 * `timeoutMs` passes. The error says what was awaited and what was last seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "no answer yet";
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`stopped while waiting for ${what}`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${what} (last: ${last})`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
