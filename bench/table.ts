/**
 * The short table a run prints on stdout: the machine first, then every ratio.
 * @module
 */

import { CREATE_TIMES } from "./create-split";
import type { BenchResults } from "./results";
import { SIZES } from "./phases";

const fmt = (x: number | undefined, digits = 2) =>
  x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);

/** Rows of cells, padded to columns. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join("  ")).join("\n");
}

function previewTable(s: Record<string, number>, latencies: number[]): string {
  const rows = [
    [
      "latency",
      "engine",
      "N",
      "conn s",
      "trivial s",
      "conn/trivial",
      "conn/conn(1)",
      "slope s/conn",
      "slope s/trivial",
    ],
  ];
  for (const latency of latencies) {
    for (const engine of ["default", "parallel-diff"]) {
      for (const n of SIZES) {
        const k = `preview.${latency}ms.${engine}.n${n}`;
        rows.push([
          `${latency} ms`,
          engine,
          String(n),
          fmt(s[`${k}.connectionsSeconds`]),
          fmt(s[`${k}.trivialSeconds`]),
          fmt(s[`${k}.connectionsOverTrivial`]),
          fmt(s[`${k}.connectionsOverOne`]),
          fmt(s[`${k}.slopeConnectionsSecondsPerMember`], 3),
          fmt(s[`${k}.slopeTrivialSecondsPerMember`], 3),
        ]);
      }
    }
  }
  return columns(rows);
}

function requestTable(s: Record<string, number>, latencies: number[]): string {
  const rows = [
    [
      "latency",
      "engine",
      "requests/cluster",
      "max",
      "waves/cluster",
      "check span s",
      "checks in flight (16)",
      "emulator calls",
    ],
  ];
  for (const latency of latencies) {
    for (const engine of ["default", "parallel-diff"]) {
      const k = `requests.${latency}ms.${engine}`;
      rows.push([
        `${latency} ms`,
        engine,
        fmt(s[`${k}.perCluster`], 0),
        fmt(s[`${k}.perClusterMax`], 0),
        fmt(s[`${k}.wavesPerCluster`], 0),
        fmt(s[`${k}.checkSpanSeconds`], 3),
        fmt(s[`${k}.n16.checksInFlight`]),
        fmt(s[`${k}.emulatorCallsPerPreview`], 0),
      ]);
    }
  }
  return columns(rows);
}

function createTable(s: Record<string, number>, latencies: number[]): string {
  // The medians, with the ratios to kubectl after the kubectl times.
  const ratios = ["applyOverKubectlCold", "applyOverKubectlWarm", "reapplyOverKubectlWarm"];
  const fields = CREATE_TIMES.flatMap((f) => (f === "kubectlWarm" ? [f, ...ratios] : [f]));
  const rows = [["create (median s)", ...latencies.map((l) => `${l} ms`)]];
  for (const f of fields) rows.push([f, ...latencies.map((l) => fmt(s[`create.${l}ms.${f}`]))]);
  return columns(rows);
}

function clientSetupTable(results: BenchResults, latencies: number[]): string {
  const names = Object.keys(results.clientSetup[`${latencies[0]}ms`] ?? {});
  const rows = [["fresh process (median ms)", ...latencies.map((l) => `${l} ms`)]];
  for (const name of names) {
    rows.push([
      name,
      ...latencies.map((l) => fmt(results.summary[`clientSetup.${l}ms.${name}`], 1)),
    ]);
  }
  return columns(rows);
}

/** The whole table. */
export function table(results: BenchResults): string {
  const { machine: m, summary: s } = results;
  const latencies = [...new Set(results.previews.map((p) => p.latencyMs))].sort((a, b) => a - b);
  const { up, destroy } = results.upDestroy;
  const lines = [
    `${m.cores} cores (${m.cpuModel}), ${m.totalMemoryGiB} GiB, Node ${m.node}, Pulumi ${m.pulumi}, ${m.date}`,
    `total ${Math.round(results.totalSeconds)} s; every figure the median of ${JSON.stringify(results.repeats)} runs`,
    "",
    "No-change preview of N connections against N trivial dynamic resources",
    previewTable(s, latencies),
    "",
    "Requests per no-change preview, per cluster (API server audit log) and at the emulator",
    requestTable(s, latencies),
    "",
    "Create, split (in-process), and the same objects with kubectl apply --server-side",
    createTable(s, latencies),
    "",
    "Client set-up: loading the provider and the client, first requests on a new pool",
    clientSetupTable(results, latencies),
    "",
    `Up at 0 ms: 1 connection ${fmt(up["1"]?.median)} s, 8 ${fmt(up["8"]?.median)} s, ratio ${fmt(s["upDestroy.0ms.upOf8OverUpOf1"])}`,
    `Destroy at 0 ms: 1 connection ${fmt(destroy["1"]?.median)} s, 8 ${fmt(destroy["8"]?.median)} s, ratio ${fmt(s["upDestroy.0ms.destroyOf8OverDestroyOf1"])}`,
    `Provider process: peak RSS ${fmt(s["provider.peakRssMiBDuringUpOf16"], 1)} MiB during up of 16 ` +
      `(trivial ${fmt(s["provider.trivialPeakRssMiBDuringUpOf16"], 1)} MiB, ratio ${fmt(s["provider.peakRssOverTrivial"])}); ` +
      `__provider ${s["provider.providerChars"]} chars x ${results.providerProcess.state.copies} resources; ` +
      `serialize ${fmt(s["provider.serializeMs"])} ms (first ${fmt(results.providerProcess.serializeFirstSeconds * 1000)} ms)`,
    ...Object.keys(results.memory).map(
      (l) =>
        `Environment memory at ${l}, 16 clusters: API servers ${s[`memory.${l}.apiServersMiB`]} MiB ` +
        `(${s[`memory.${l}.perApiServerMiB`]} each), everything ${s[`memory.${l}.environmentMiB`]} MiB`,
    ),
    ...results.failures.map((f) => `FAILED: ${f}`),
  ];
  return `${lines.join("\n")}\n`;
}
