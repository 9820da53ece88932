/**
 * Samples and their medians, and the clock the benchmark reads.
 * @module
 */

import { performance } from "node:perf_hooks";

/** Repeated measurements of one figure, in seconds (or another unit the name says). */
export interface Figure {
  samples: number[];
  median: number;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A figure of its samples. */
export function figure(samples: number[]): Figure {
  return { samples, median: median(samples) };
}

/** Runs `fn` and resolves with its result and how long it took, in seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

/** Rounds to `digits` decimals, for what is stored and printed. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `a / b`, rounded; NaN when `b` is 0 or either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || b === 0) return NaN;
  return round(a / b, 2);
}
