/**
 * `npm run bench`: what a connection costs in a fleet, measured against baselines in the same
 * run. See bench/README.md for what each figure means and how long a run takes.
 * @module
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { previewChart } from "./chart";
import type { CreateSample } from "./create-split";
import { stopEnvironmentsOnSignal, withEnvironment, type BenchEnv } from "./environment";
import { createFleet, type Fleet } from "./fleet";
import { environmentMemory, machineInfo, type EnvironmentMemory } from "./machine";
import { clientSetup } from "./client-setup";
import { createSplit, previewGrowth, up16WithRss, upDestroy } from "./phases";
import { elapsedSeconds, progress } from "./progress";
import { providerInState, serializeTimes } from "./provider-state";
import type { BenchResults } from "./results";
import { summarize } from "./summary";
import { table } from "./table";
import { repoRoot } from "../tests/support/env";

const RESULTS = path.join(repoRoot, "bench", "results");

/** Repeats per measurement; `BENCH_REPEATS` overrides the preview's (e.g. 1 for a smoke run). */
const REPEATS = {
  preview: Number(process.env.BENCH_REPEATS ?? 3),
  upDestroy: Number(process.env.BENCH_REPEATS ?? 3),
  create: Number(process.env.BENCH_REPEATS ?? 3),
  serialize: 20,
  clientSetup: 5,
};

/** What one environment's phases produce. */
type EnvResults = Pick<BenchResults, "previews" | "requests"> & {
  /** The environment's Pulumi CLI (it stays in the toolchain cache). */
  pulumi: string;
  create: CreateSample[];
  failures: string[];
  clientSetup: BenchResults["clientSetup"][string];
  memory: EnvironmentMemory;
  upDestroy?: BenchResults["upDestroy"];
  provider?: Omit<BenchResults["providerProcess"], "serializeFirstSeconds" | "serializeSeconds">;
};

/** The phases at 0 ms: create split, up and destroy of 1 and 8, growth, up of 16. */
async function atZero(env: BenchEnv): Promise<EnvResults> {
  const { conn, trivial } = await fleets(env);
  progress("create, split (in-process)");
  const { samples: create, failures } = await createSplit(env, REPEATS.create);
  progress("client set-up, in fresh processes");
  const setup = await clientSetup(env, REPEATS.clientSetup);
  progress("up and destroy of 1 and of 8 connections");
  const one = await upDestroy(conn, 1, REPEATS.upDestroy);
  const eight = await upDestroy(conn, 8, REPEATS.upDestroy);
  const growth = await previewGrowth(env, { conn, trivial }, REPEATS.preview);
  const memory = environmentMemory(env);
  progress("up of 16 connections, then of 16 trivial resources, watching the provider process");
  const rss = await up16WithRss(conn);
  const trivialRss = await up16WithRss(trivial);
  const state = await providerInState(conn);
  return {
    ...growth,
    pulumi: env.ready.tools.pulumi,
    previews: growth.points,
    create,
    failures,
    clientSetup: setup,
    memory,
    upDestroy: { up: { 1: one.up, 8: eight.up }, destroy: { 1: one.destroy, 8: eight.destroy } },
    provider: {
      peakRssMiB: rss.peakRssMiB,
      trivialPeakRssMiB: trivialRss.peakRssMiB,
      up16Seconds: rss.seconds,
      state,
    },
  };
}

/** The phases at 50 ms: create split and growth. */
async function atFifty(env: BenchEnv): Promise<EnvResults> {
  const { conn, trivial } = await fleets(env);
  progress("create, split (in-process)");
  const { samples: create, failures } = await createSplit(env, REPEATS.create);
  progress("client set-up, in fresh processes");
  const setup = await clientSetup(env, REPEATS.clientSetup);
  const growth = await previewGrowth(env, { conn, trivial }, REPEATS.preview);
  const memory = environmentMemory(env);
  const pulumi = env.ready.tools.pulumi;
  const previews = growth.points;
  return { ...growth, pulumi, previews, create, failures, clientSetup: setup, memory };
}

/** Every fleet created, whose temporary directories are removed when its environment stops. */
const created: Fleet[] = [];

async function fleets(env: BenchEnv): Promise<{ conn: Fleet; trivial: Fleet }> {
  const conn = await createFleet(env, "connections");
  created.push(conn);
  const trivial = await createFleet(env, "trivial");
  created.push(trivial);
  return { conn, trivial };
}

/** Runs the phases of one latency in an environment of 16 clusters. */
async function measureAt(latencyMs: number, phases: (env: BenchEnv) => Promise<EnvResults>) {
  try {
    return await withEnvironment(16, latencyMs, phases);
  } finally {
    for (const fleet of created.splice(0)) fleet.program.cleanup();
  }
}

function write(results: BenchResults): void {
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  const title = `pulumi-enforce: no-change preview, ${results.machine.cores} cores`;
  fs.writeFileSync(path.join(RESULTS, "preview.svg"), previewChart(results.previews, title));
}

async function main(): Promise<void> {
  stopEnvironmentsOnSignal();
  const zero = await measureAt(0, atZero);
  const fifty = await measureAt(50, atFifty);
  const serialize = await serializeTimes(REPEATS.serialize);
  const machine = await machineInfo(zero.pulumi);
  const partial: Omit<BenchResults, "summary"> = {
    machine,
    repeats: REPEATS,
    totalSeconds: elapsedSeconds(),
    previews: [...zero.previews, ...fifty.previews],
    requests: [...zero.requests, ...fifty.requests],
    create: { "0ms": zero.create, "50ms": fifty.create },
    clientSetup: { "0ms": zero.clientSetup, "50ms": fifty.clientSetup },
    upDestroy: zero.upDestroy!,
    providerProcess: {
      ...zero.provider!,
      serializeFirstSeconds: serialize.first,
      serializeSeconds: serialize.then,
    },
    memory: { "0ms": zero.memory, "50ms": fifty.memory },
    failures: [...zero.failures, ...fifty.failures],
  };
  const results: BenchResults = { ...partial, summary: summarize(partial) };
  write(results);
  process.stdout.write(table(results));
  progress(`wrote ${path.join(RESULTS, "latest.json")} and preview.svg`);
  if (results.failures.length > 0) {
    console.error(`bench: ${results.failures.length} measurement(s) failed, listed in the table`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
