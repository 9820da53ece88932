/**
 * `pulumi-enforce uninstall`: the emergency removal of the agent from a cluster when the Pulumi
 * state that would `destroy` it is lost or broken. Without `--yes` it only prints what it would
 * remove. Then it unregisters the cluster from Enforce when `ENFORCE_TOKEN` is set.
 * @module
 */

import { parseArgs } from "node:util";
import { KubeClient } from "../kube/client";
import { findRegistrations, planCluster, type ClusterPlan } from "../lifecycle/emergency/plan";
import { removeFromCluster, unregister } from "../lifecycle/emergency/remove";
import {
  PLATFORM_SETTINGS,
  PlatformClient,
  platformClientFromConfig,
  resolvePlatformConfig,
} from "../platform";
import { EnforceError } from "../util/errors";
import { renderCluster, renderEnforce, type EnforceView } from "./uninstall-report";

/** The command line `uninstall` takes. */
export const UNINSTALL_USAGE = `usage: pulumi-enforce uninstall --kubeconfig PATH [--context NAME] [--yes] [--include-foreign] [--cluster-id ID]... [--identity-id ID]... [--timeout SECONDS]

Removes the Enforce agent that pulumi-enforce installed, without Pulumi: for when the
stack's state is lost or broken. In this order: the webhook configurations, the agent's
StatefulSet, then everything else labelled app.kubernetes.io/managed-by=pulumi-enforce,
waiting (up to --timeout, default 180) until its namespaces and CRDs are gone. Then it
unregisters the cluster and its identity from Enforce when ENFORCE_TOKEN is set (with
ENFORCE_API_URL and ENFORCE_CA_FILE as the provider reads them).

Without --yes it changes nothing and prints what it would remove. Safe to run again.
An agent installation pulumi-enforce did not make (chainctl, the Helm chart) is listed
and left alone unless --include-foreign is given. --cluster-id and --identity-id name
registrations to remove that the cluster no longer names (after an earlier run).
Exit status: 0 when done (or nothing to do), 1 when a step failed, 2 on bad usage.
`;

interface Options {
  kubeconfig: string;
  context?: string;
  yes: boolean;
  foreign: boolean;
  clusterIds: string[];
  identityIds: string[];
  timeoutMs: number;
}

/** Entry of `pulumi-enforce uninstall`; writes to the given streams and returns the exit status. */
export async function uninstall(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const usage = (problem: string) => {
    err(`pulumi-enforce uninstall: ${problem}\n\n${UNINSTALL_USAGE}`);
    return 2;
  };
  let opts: Options | "help";
  let platform: PlatformClient | EnforceView;
  try {
    opts = parseOptions(argv);
    platform = platformFromEnv();
  } catch (e) {
    return usage((e as Error).message);
  }
  if (opts === "help") {
    out(UNINSTALL_USAGE);
    return 0;
  }
  let kube: KubeClient;
  try {
    kube = await KubeClient.load({ kubeconfig: opts.kubeconfig, context: opts.context });
  } catch (e) {
    err(`pulumi-enforce uninstall: ${(e as Error).message}\n`);
    return 2;
  }
  const say = (line: string) => out(line + "\n");
  try {
    return await run(kube, platform, opts, say);
  } catch (e) {
    err(`pulumi-enforce uninstall: ${failure(e)}\n`);
    return 1;
  } finally {
    kube.close();
    if (isClient(platform)) await platform.close();
  }
}

async function run(
  kube: KubeClient,
  platform: PlatformClient | EnforceView,
  opts: Options,
  say: (line: string) => void,
): Promise<number> {
  say(`Cluster ${kube.server} (context ${kube.contextName})`);
  const plan = await planCluster(kube);
  const view = isClient(platform) ? await lookUp(platform, plan, opts) : platform;
  for (const line of [...renderCluster(plan, opts.foreign), ...renderEnforce(view, plan)])
    say(line);
  if (!opts.yes) {
    say("Dry run: nothing was changed. Run again with --yes to remove what is listed.");
    return 0;
  }
  await removeFromCluster(kube, plan, {
    foreign: opts.foreign,
    finalizeTimeoutMs: opts.timeoutMs,
    say,
  });
  if (isClient(platform) && "registrations" in view) {
    await unregister(platform, view.registrations, say);
  }
  if ("notLookedUp" in view && view.apiUrl) {
    say("Done in the cluster, not in Enforce: see above.");
    return 1;
  }
  say("Done.");
  return 0;
}

/** Looks the registrations up; a platform failure is reported, not thrown, so the cluster is still cleaned. */
async function lookUp(
  platform: PlatformClient,
  plan: ClusterPlan,
  opts: Options,
): Promise<EnforceView> {
  const given = { clusterIds: opts.clusterIds, identityIds: opts.identityIds };
  try {
    return {
      apiUrl: platform.apiUrl,
      registrations: await findRegistrations(platform, plan, given, opts.foreign),
    };
  } catch (e) {
    const fix =
      "once Enforce answers, delete the registration there, or run this again with --cluster-id";
    return { apiUrl: platform.apiUrl, notLookedUp: `${failure(e)} (${fix})` };
  }
}

/** A client for the platform settings in the environment, or why there is none. */
function platformFromEnv(): PlatformClient | EnforceView {
  const config = resolvePlatformConfig({}, process.env);
  if (!config.token) {
    const { envVar } = PLATFORM_SETTINGS.token;
    return {
      notLookedUp: `${envVar} is not set, so nothing is unregistered from Enforce. Set ${envVar} (and ENFORCE_API_URL, ENFORCE_CA_FILE for a platform other than the hosted one) before running with --yes, or delete the cluster in Enforce afterwards`,
    };
  }
  return platformClientFromConfig(config);
}

function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      context: { type: "string" },
      yes: { type: "boolean", default: false },
      "include-foreign": { type: "boolean", default: false },
      "cluster-id": { type: "string", multiple: true, default: [] },
      "identity-id": { type: "string", multiple: true, default: [] },
      timeout: { type: "string", default: "180" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error("--kubeconfig is required (or set KUBECONFIG)");
  const timeout = Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new Error(`--timeout must be a whole number of seconds, got "${values.timeout}"`);
  }
  return {
    kubeconfig,
    context: values.context,
    yes: values.yes,
    foreign: values["include-foreign"],
    clusterIds: values["cluster-id"],
    identityIds: values["identity-id"],
    timeoutMs: timeout * 1000,
  };
}

function failure(e: unknown): string {
  return e instanceof EnforceError || e instanceof Error ? e.message : String(e);
}

function isClient(platform: PlatformClient | EnforceView): platform is PlatformClient {
  return platform instanceof PlatformClient;
}
