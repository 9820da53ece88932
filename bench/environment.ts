/**
 * The benchmark's local environments: started with `enforce-local up`, and always stopped,
 * whether the phase that used one finished, failed or was interrupted (Ctrl-C, SIGTERM).
 * @module
 */

import type { EnforceSection } from "../local/platform-services";
import { startOwnEnv, stopOwnEnv, type OwnEnv } from "../tests/support/env";
import { progress } from "./progress";

/** A running environment and what the benchmark reads from its `ready.json`. */
export interface BenchEnv extends OwnEnv {
  latencyMs: number;
  enforce: EnforceSection;
}

const running = new Set<OwnEnv>();

/** How long `enforce-local up` may take: 16 clusters start in well under a minute. */
const START_TIMEOUT_MS = 5 * 60_000;

/**
 * Starts `enforce-local up --clusters N --latency-ms L`, runs `use` with it and stops it, also
 * when `use` throws.
 */
export async function withEnvironment<T>(
  clusters: number,
  latencyMs: number,
  use: (env: BenchEnv) => Promise<T>,
): Promise<T> {
  progress(`starting an environment of ${clusters} clusters at ${latencyMs} ms latency...`);
  const args = ["--clusters", String(clusters), "--latency-ms", String(latencyMs)];
  const env = await startOwnEnv(args, START_TIMEOUT_MS);
  running.add(env);
  let failed = true;
  try {
    const enforce = env.ready.enforce as EnforceSection;
    const result = await use({ ...env, latencyMs, enforce });
    failed = false;
    return result;
  } finally {
    progress(`stopping the ${latencyMs} ms environment`);
    running.delete(env);
    if (failed) await stopKeepingLogs(env);
    else await stopOwnEnv(env);
  }
}

/** Stops a failed phase's environment but keeps its directory, whose logs say what went wrong. */
async function stopKeepingLogs(env: OwnEnv): Promise<void> {
  if (env.child.exitCode === null && env.child.signalCode === null) {
    const exited = new Promise((resolve) => env.child.once("exit", resolve));
    env.child.kill("SIGTERM");
    await exited;
  }
  progress(`kept ${env.dir} (each cluster's logs under clusters/); remove it when done`);
}

/**
 * On SIGINT or SIGTERM: stops every running environment, then exits with 130 (or 143). The
 * `up` processes also stop on their own when their parent's terminal sends them SIGINT.
 */
export function stopEnvironmentsOnSignal(): void {
  const stopAll = (signal: NodeJS.Signals) => {
    progress(`received ${signal}: stopping ${running.size} environment(s)`);
    const stops = [...running].map((env) => stopOwnEnv(env).catch(() => undefined));
    void Promise.all(stops).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", stopAll);
  process.once("SIGTERM", stopAll);
}
