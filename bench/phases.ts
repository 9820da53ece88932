/**
 * The benchmark's phases, each against one running environment.
 * @module
 */

import { measureCreate, type CreateSample } from "./create-split";
import type { BenchEnv } from "./environment";
import type { Fleet } from "./fleet";
import { peakRssDuring } from "./processes";
import { progress } from "./progress";
import { clusterRequestsSince, emulatorCallsSince, requestCursor } from "./requests";
import type { Engine, PreviewPoint, RequestSample } from "./results";
import { figure, round, timed, type Figure } from "./stats";

/** The fleet sizes previewed. */
export const SIZES = [1, 2, 4, 8, 16];

/** The engine settings and the environment each adds to the CLI's. */
export const ENGINES: Record<Engine, NodeJS.ProcessEnv> = {
  default: {},
  "parallel-diff": { PULUMI_PARALLEL_DIFF: "true" },
};

/**
 * Runs `pulumi <args>` on a fleet of `size` (`destroy` removes `of` members), with a progress
 * line; seconds it took.
 */
async function cli(
  fleet: Fleet,
  size: number,
  args: string[],
  env?: NodeJS.ProcessEnv,
  of = size,
): Promise<number> {
  fleet.resize(size);
  const { seconds } = await timed(() => fleet.run(args, env));
  const engine = env?.PULUMI_PARALLEL_DIFF ? " (PULUMI_PARALLEL_DIFF)" : "";
  progress(`  ${args[0]} of ${of} ${fleet.kind}${engine}: ${round(seconds, 2)} s`);
  return seconds;
}

/** `up` of `size` connections from none, then `destroy`, `repeats` times. */
export async function upDestroy(
  conn: Fleet,
  size: number,
  repeats: number,
): Promise<{ up: Figure; destroy: Figure }> {
  const up: number[] = [];
  const destroy: number[] = [];
  for (let i = 0; i < repeats; i++) {
    up.push(await cli(conn, size, ["up", "--yes", "--skip-preview"]));
    destroy.push(await cli(conn, 0, ["destroy", "--yes", "--skip-preview"], {}, size));
  }
  return { up: figure(up), destroy: figure(destroy) };
}

/** One no-change preview of connections, with what the clusters and the emulator saw of it. */
async function previewConnections(
  env: BenchEnv,
  conn: Fleet,
  size: number,
  engine: Engine,
): Promise<{ seconds: number; requests: RequestSample }> {
  const cursor = await requestCursor(env);
  const seconds = await cli(conn, size, ["preview", "--expect-no-changes"], ENGINES[engine]);
  const clusters = clusterRequestsSince(env, cursor).slice(0, size);
  const emulator = await emulatorCallsSince(env, cursor);
  return { seconds, requests: { latencyMs: env.latencyMs, engine, size, clusters, emulator } };
}

/**
 * Grows both fleets through {@link SIZES} with `up`, and at each size previews each fleet with
 * each engine setting, `repeats` times, interleaved so that a slow moment of the machine hits
 * every configuration alike.
 */
export async function previewGrowth(
  env: BenchEnv,
  fleets: { conn: Fleet; trivial: Fleet },
  repeats: number,
): Promise<{ points: PreviewPoint[]; requests: RequestSample[] }> {
  const points: PreviewPoint[] = [];
  const requests: RequestSample[] = [];
  for (const size of SIZES) {
    progress(`fleets of ${size} at ${env.latencyMs} ms`);
    await cli(fleets.conn, size, ["up", "--yes", "--skip-preview"]);
    await cli(fleets.trivial, size, ["up", "--yes", "--skip-preview"]);
    const samples = new Map<string, number[]>();
    const add = (key: string, s: number) => samples.set(key, [...(samples.get(key) ?? []), s]);
    for (let r = 0; r < repeats; r++) {
      for (const engine of Object.keys(ENGINES) as Engine[]) {
        const c = await previewConnections(env, fleets.conn, size, engine);
        add(`connections/${engine}`, c.seconds);
        requests.push(c.requests);
        const t = await cli(
          fleets.trivial,
          size,
          ["preview", "--expect-no-changes"],
          ENGINES[engine],
        );
        add(`trivial/${engine}`, t);
      }
    }
    for (const [key, s] of samples) {
      const [kind, engine] = key.split("/") as [PreviewPoint["kind"], Engine];
      points.push({ latencyMs: env.latencyMs, engine, kind, size, seconds: figure(s) });
    }
  }
  return { points, requests };
}

/**
 * Creates (and deletes again) a connection in-process on each of the last `repeats` clusters. A
 * sample that fails is reported in `failures` (its message names no credential) and the others
 * still run.
 */
export async function createSplit(
  env: BenchEnv,
  repeats: number,
): Promise<{ samples: CreateSample[]; failures: string[] }> {
  const samples: CreateSample[] = [];
  const failures: string[] = [];
  const last = env.ready.clusters.length - 1;
  for (let i = 0; i < repeats; i++) {
    try {
      const sample = await measureCreate(env, last - i);
      progress(
        `  create on ${sample.cluster}: ${round(sample.create, 2)} s (apply ${round(sample.apply, 2)} s, ` +
          `kubectl ${round(sample.kubectlCold, 2)} s cold / ${round(sample.kubectlWarm, 2)} s warm)`,
      );
      samples.push(sample);
    } catch (err) {
      const why = `create split on cluster-${last - i + 1} at ${env.latencyMs} ms: ${(err as Error).message}`;
      progress(`  FAILED: ${why}`);
      failures.push(why);
    }
  }
  return { samples, failures };
}

/**
 * From a fleet of 16: `destroy`, then `up` of 16 while the dynamic provider's process is watched
 * for its peak RSS.
 */
export async function up16WithRss(fleet: Fleet): Promise<{ peakRssMiB: number; seconds: number }> {
  await cli(fleet, 0, ["destroy", "--yes", "--skip-preview"], {}, 16);
  const watched = await peakRssDuring(
    fleet.program.dir,
    // The provider itself, not the `node -e` its launcher script resolves it with.
    (cmd) => cmd.includes("dynamic-provider") && !cmd.includes(" -e "),
    () => cli(fleet, 16, ["up", "--yes", "--skip-preview"]),
  );
  const peak = round(watched.peakMiB, 1);
  progress(
    `  ${fleet.kind}' provider process peak RSS: ${peak} MiB (pids ${watched.pids.join(", ")})`,
  );
  return { peakRssMiB: watched.peakMiB, seconds: watched.value };
}
