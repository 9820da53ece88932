/**
 * Where the time of a `create` goes, measured with the provider's own lifecycle functions in
 * this process: each apply step timed, the platform calls timed wherever they happen, and the
 * objects the install step applies captured, so that `kubectl apply --server-side` can apply
 * the very same objects to the same cluster for comparison.
 * @module
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkConnection } from "../provider/lifecycle/check-connection";
import type { CheckedInputs } from "../provider/lifecycle/checked";
import {
  APPLY_STEPS,
  applyConnection,
  type ApplyStep,
} from "../provider/lifecycle/apply-connection";
import { deleteConnection } from "../provider/lifecycle/delete-connection";
import { agentObjects, type KubeObject } from "../provider/install/manifests";
import { newConnectionId } from "../provider/install/ownership";
import { applyObjects } from "../provider/install/apply";
import { KubeClient } from "../provider/kube/client";
import type { PlatformClient } from "../provider/platform";
import { emulatorClient, emulatorContext, emulatorPlatform } from "../tests/support/env";
import { execFileWithTimeout } from "./processes";
import type { BenchEnv } from "./environment";
import { timed } from "./stats";

/** One create, split, and the comparison applies on the same cluster (seconds). */
export interface CreateSample {
  cluster: string;
  /** `check`, as a preview would run it before the create. */
  check: number;
  /** `create` from start to registered. */
  create: number;
  /** Each apply step's time, by step name. */
  steps: Record<string, number>;
  /** Platform calls outside the wait for the agent: their count and time. */
  platformCalls: number;
  platform: number;
  /** The install step: applying the agent's objects. */
  apply: number;
  /** The registration step: writing the credentials and waiting for the agent. */
  waitForAgent: number;
  /** What the steps do not account for: the set-up of the run and its clients. */
  other: number;
  /** How many objects the install step applied. */
  objects: number;
  /** Applying the same objects again in-process (they exist now), a new client included. */
  reapply: number;
  /** `kubectl apply --server-side` of the same objects, with a cold discovery cache. */
  kubectlCold: number;
  /** The same with the cache the cold run filled. */
  kubectlWarm: number;
  /** `delete` of the connection afterwards. */
  delete: number;
}

/** The times of a {@link CreateSample} whose medians the summary reports, in the table's order. */
export const CREATE_TIMES = [
  "check",
  "create",
  "platform",
  "platformCalls",
  "apply",
  "waitForAgent",
  "other",
  "reapply",
  "kubectlCold",
  "kubectlWarm",
  "delete",
] as const satisfies readonly (keyof CreateSample)[];

/** Platform time and calls by the step that made them. */
interface PlatformTally {
  step: string;
  seconds: Record<string, number>;
  calls: Record<string, number>;
}

/** A platform client whose every method call is timed into `tally` under the current step. */
function tallied(client: PlatformClient, tally: PlatformTally): PlatformClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      // Bound: the client's private fields are reachable only with the client itself as `this`.
      if (prop === "close") return (value as () => Promise<void>).bind(target);
      return async (...args: unknown[]) => {
        const step = tally.step;
        const { value: result, seconds } = await timed(async () =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
        );
        tally.seconds[step] = (tally.seconds[step] ?? 0) + seconds;
        tally.calls[step] = (tally.calls[step] ?? 0) + 1;
        return result;
      };
    },
  });
}

/** The apply steps, each timed into `steps` and marked as the current step of `tally`. */
function timedSteps(
  steps: Record<string, number>,
  tally: PlatformTally,
  captured: KubeObject[],
): ApplyStep[] {
  return APPLY_STEPS.map((step) => async (run) => {
    tally.step = step.name;
    if (step.name === "install") {
      const spec = { ...run.inputs, connectionId: run.connectionId, platform: run.agentPlatform };
      captured.push(...agentObjects(spec));
    }
    steps[step.name] = (await timed(() => step(run))).seconds;
    tally.step = "";
  });
}

/** Checks and creates one connection on `clusterIndex` in-process, timing each part. */
async function timedCreate(env: BenchEnv, clusterIndex: number) {
  const cluster = env.ready.clusters[clusterIndex]!;
  const tally: PlatformTally = { step: "", seconds: {}, calls: {} };
  const ctx = emulatorContext(() => env.ready, [], {
    platform: () => tallied(emulatorClient(env.ready), tally),
    // The provider's defaults (defaultContext), not the tests' faster polls.
    registrationPollMs: 1000,
    progressEveryMs: 10_000,
  });
  const news = {
    resourceName: `split-${cluster.name}`,
    kubeconfig: fs.readFileSync(cluster.kubeconfig, "utf8"),
    group: env.enforce.group,
    registrationTimeout: "5m",
  };
  const agentPlatform = () => emulatorPlatform(env.ready);
  const check = await timed(() => checkConnection({}, news, { agentPlatform }));
  if (check.value.failures.length > 0) {
    throw new Error(`check failed on ${cluster.name}: ${JSON.stringify(check.value.failures)}`);
  }
  const steps: Record<string, number> = {};
  const objects: KubeObject[] = [];
  // As the provider's `create` right after its `check`: the apply starts from what it observed.
  const req = {
    connectionId: newConnectionId(),
    inputs: check.value.inputs as CheckedInputs,
    facts: check.value.facts,
  };
  const create = await timed(() => applyConnection(ctx, req, timedSteps(steps, tally, objects)));
  return {
    cluster,
    ctx,
    tally,
    steps,
    objects,
    check: check.seconds,
    create,
    kubeconfig: news.kubeconfig,
  };
}

/**
 * One sample: check and create on `clusterIndex`, the comparison applies, then delete, which
 * leaves the cluster as it was for the fleets that use it later.
 */
export async function measureCreate(env: BenchEnv, clusterIndex: number): Promise<CreateSample> {
  const run = await timedCreate(env, clusterIndex);
  const { steps, tally, objects } = run;
  const sum = (r: Record<string, number>, skip: string) =>
    Object.entries(r).reduce((s, [k, v]) => (k === skip ? s : s + v), 0);
  const reapply = await timed(async () => {
    const kube = await KubeClient.load({ kubeconfig: run.kubeconfig });
    try {
      await applyObjects(kube, objects);
    } finally {
      kube.close();
    }
  });
  const kubectlTimes = await kubectlApply(env, run.cluster.kubeconfig, objects);
  const del = await timed(() => deleteConnection(run.ctx, run.create.value));
  return {
    cluster: run.cluster.name,
    check: run.check,
    create: run.create.seconds,
    steps,
    platformCalls: sum(tally.calls, "awaitRegistration"),
    platform: sum(tally.seconds, "awaitRegistration"),
    apply: steps.install ?? NaN,
    waitForAgent: steps.awaitRegistration ?? NaN,
    other: run.create.seconds - sum(steps, ""),
    objects: objects.length,
    reapply: reapply.seconds,
    ...kubectlTimes,
    delete: del.seconds,
  };
}

/** `kubectl apply --server-side` of `objects`, first with an empty discovery cache, then warm. */
async function kubectlApply(
  env: BenchEnv,
  kubeconfig: string,
  objects: KubeObject[],
): Promise<{ kubectlCold: number; kubectlWarm: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-kubectl-"));
  try {
    const file = path.join(dir, "objects.json");
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    const args = [
      ...["apply", "--server-side", "--force-conflicts", "--field-manager", "bench-kubectl"],
      ...["--cache-dir", path.join(dir, "cache"), "-f", file, "--request-timeout", "60s"],
    ];
    const run = () =>
      execFileWithTimeout(env.ready.tools.kubectl, ["--kubeconfig", kubeconfig, ...args], 120_000);
    const cold = await timed(run);
    const warm = await timed(run);
    return { kubectlCold: cold.seconds, kubectlWarm: warm.seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
