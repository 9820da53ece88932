/**
 * The cost of a provider process's client set-up: loading the implementation and
 * `@kubernetes/client-node`, parsing a kubeconfig, and the first requests on a cold connection
 * pool against later ones, each in a fresh Node.js process (`./client-setup-child`).
 * @module
 */

import * as path from "node:path";
import type { BenchEnv } from "./environment";
import { execFileWithTimeout } from "./processes";
import { figure, type Figure } from "./stats";

/** Each figure of the child's report, in milliseconds, over `repeats` fresh processes. */
export async function clientSetup(env: BenchEnv, repeats: number): Promise<Record<string, Figure>> {
  const child = path.join(__dirname, "client-setup-child.js");
  const kubeconfig = env.ready.clusters[0]!.kubeconfig;
  const samples: Record<string, number[]> = {};
  for (let i = 0; i < repeats; i++) {
    const out = await execFileWithTimeout(process.execPath, [child, kubeconfig], 60_000);
    for (const [k, v] of Object.entries(JSON.parse(out) as Record<string, number>)) {
      (samples[k] ??= []).push(Math.round(v * 10) / 10);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, figure(s)]));
}
