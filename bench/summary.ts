/**
 * The ratios and derived figures of a run: what the table prints and `latest.json` keeps under
 * `summary`, each a flat key so that two runs compare line by line.
 * @module
 */

import { CREATE_TIMES, type CreateSample } from "./create-split";
import type { BenchResults, Engine, PreviewPoint, RequestSample } from "./results";
import { median, ratio, round } from "./stats";

/** Median preview seconds of one configuration, undefined when not measured. */
function previewAt(
  points: readonly PreviewPoint[],
  latencyMs: number,
  engine: Engine,
  kind: PreviewPoint["kind"],
  size: number,
): number | undefined {
  return points.find(
    (p) => p.latencyMs === latencyMs && p.engine === engine && p.kind === kind && p.size === size,
  )?.seconds.median;
}

/** Ratios per fleet size and the slopes from 1 to each size, for one latency and engine. */
function previewSummary(
  points: readonly PreviewPoint[],
  latencyMs: number,
  engine: Engine,
  out: Record<string, number>,
): void {
  const key = `preview.${latencyMs}ms.${engine}`;
  const at = (kind: PreviewPoint["kind"], n: number) =>
    previewAt(points, latencyMs, engine, kind, n);
  const [c1, t1] = [at("connections", 1), at("trivial", 1)];
  const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  for (const n of sizes) {
    const [c, t] = [at("connections", n), at("trivial", n)];
    if (c === undefined || t === undefined) continue;
    out[`${key}.n${n}.connectionsSeconds`] = round(c, 2);
    out[`${key}.n${n}.trivialSeconds`] = round(t, 2);
    out[`${key}.n${n}.connectionsOverTrivial`] = ratio(c, t);
    out[`${key}.n${n}.connectionsOverOne`] = ratio(c, c1);
    if (n > 1 && c1 !== undefined && t1 !== undefined) {
      out[`${key}.n${n}.slopeConnectionsSecondsPerMember`] = round((c - c1) / (n - 1), 3);
      out[`${key}.n${n}.slopeTrivialSecondsPerMember`] = round((t - t1) / (n - 1), 3);
    }
  }
  const [c16, t16] = [at("connections", 16), at("trivial", 16)];
  if (c16 !== undefined && t16 !== undefined) {
    const rtt = (2 * latencyMs) / 1000;
    out[`${key}.n16.excessPerConnectionSeconds`] = round((c16 - t16) / 16, 3);
    if (rtt > 0)
      out[`${key}.n16.excessPerConnectionInRoundTrips`] = round((c16 - t16) / 16 / rtt, 2);
  }
}

/**
 * How many clusters' checks were in flight at once, on average, over a preview: the sum of
 * every cluster's span (first request to last answer) over the span of them all. 1 or less
 * means one after the other.
 */
function concurrency(sample: RequestSample): number {
  const spans = sample.clusters.filter((c) => c.count > 0);
  if (spans.length === 0) return NaN;
  const first = Math.min(...spans.map((c) => c.firstMs));
  const last = Math.max(...spans.map((c) => c.firstMs + c.spanSeconds * 1000));
  const busy = spans.reduce((s, c) => s + c.spanSeconds * 1000, 0);
  return last > first ? busy / (last - first) : NaN;
}

/** Requests, waves and check spans per cluster, for each latency and engine (all sizes pooled). */
function requestSummary(samples: readonly RequestSample[], out: Record<string, number>): void {
  const groups = new Map<string, RequestSample[]>();
  for (const s of samples) {
    const key = `requests.${s.latencyMs}ms.${s.engine}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, group] of groups) {
    const clusters = group.flatMap((s) => s.clusters);
    out[`${key}.perCluster`] = median(clusters.map((c) => c.count));
    out[`${key}.perClusterMax`] = Math.max(...clusters.map((c) => c.count));
    out[`${key}.wavesPerCluster`] = median(clusters.map((c) => c.waves));
    out[`${key}.checkSpanSeconds`] = round(median(clusters.map((c) => c.spanSeconds)), 3);
    const emulator = group.map((s) => Object.values(s.emulator).reduce((a, b) => a + b, 0));
    out[`${key}.emulatorCallsPerPreview`] = median(emulator);
    const big = group.filter((s) => s.size === 16);
    out[`${key}.n16.checksInFlight`] = round(median(big.map(concurrency)), 2);
  }
}

/** Medians of the create split and its comparison with kubectl, per latency. */
function createSummary(create: Record<string, CreateSample[]>, out: Record<string, number>): void {
  for (const [latency, samples] of Object.entries(create)) {
    const m = (f: (s: CreateSample) => number) => round(median(samples.map(f)), 3);
    const key = `create.${latency}`;
    for (const field of CREATE_TIMES) {
      out[`${key}.${field}`] = m((s) => s[field]);
    }
    out[`${key}.applyOverKubectlCold`] = ratio(
      m((s) => s.apply),
      m((s) => s.kubectlCold),
    );
    out[`${key}.applyOverKubectlWarm`] = ratio(
      m((s) => s.apply),
      m((s) => s.kubectlWarm),
    );
    out[`${key}.reapplyOverKubectlWarm`] = ratio(
      m((s) => s.reapply),
      m((s) => s.kubectlWarm),
    );
  }
}

/** Every summary figure of `results`. */
export function summarize(results: Omit<BenchResults, "summary">): Record<string, number> {
  const out: Record<string, number> = {};
  for (const latencyMs of [...new Set(results.previews.map((p) => p.latencyMs))]) {
    for (const engine of ["default", "parallel-diff"] as const) {
      previewSummary(results.previews, latencyMs, engine, out);
    }
  }
  requestSummary(results.requests, out);
  createSummary(results.create, out);
  for (const [latency, figures] of Object.entries(results.clientSetup)) {
    for (const [name, f] of Object.entries(figures)) {
      out[`clientSetup.${latency}.${name}`] = round(f.median, 1);
    }
  }
  const { up, destroy } = results.upDestroy;
  out["upDestroy.0ms.upOf8OverUpOf1"] = ratio(up["8"]?.median, up["1"]?.median);
  out["upDestroy.0ms.destroyOf8OverDestroyOf1"] = ratio(destroy["8"]?.median, destroy["1"]?.median);
  const p = results.providerProcess;
  out["provider.peakRssMiBDuringUpOf16"] = round(p.peakRssMiB, 1);
  out["provider.trivialPeakRssMiBDuringUpOf16"] = round(p.trivialPeakRssMiB, 1);
  out["provider.peakRssOverTrivial"] = ratio(p.peakRssMiB, p.trivialPeakRssMiB);
  out["provider.providerChars"] = p.state.providerChars;
  out["provider.serializeMs"] = round(p.serializeSeconds.median * 1000, 2);
  for (const [latency, m] of Object.entries(results.memory)) {
    out[`memory.${latency}.apiServersMiB`] = m.apiServers.totalMiB;
    out[`memory.${latency}.perApiServerMiB`] = round(m.apiServers.totalMiB / m.apiServers.count, 0);
    out[`memory.${latency}.environmentMiB`] = m.totalMiB;
  }
  return out;
}
