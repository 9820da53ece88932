/**
 * The provider's `check`: input validation first (no network), then, when every input the
 * cluster checks need is known, the cluster checks `doctor` runs, whose observations are kept in
 * the checked inputs so that `diff` can compare them with the last deployment's.
 * @module
 */

import {
  checkCluster,
  type CheckHints,
  type ClusterFacts,
  type Problem,
} from "../checks/cluster-checks";
import {
  agentPlatformOf,
  summarizePlatform,
  type AgentPlatform,
  type PlatformSummary,
} from "../install/platform-settings";
import { isInlineKubeconfig } from "../inputs/kubeconfig";
import type { KubeClient, KubeconfigSource } from "../kube/client";
import { KubeconfigError } from "../kube/errors";
import { sharedKubeClients } from "../kube/pool";
import { kubeconfigSecrets, redactKubeconfig } from "../kube/redact";
import { PlatformConfigError, resolvePlatformConfig } from "../platform";
import { splitFix } from "../util/errors";
import {
  UNKNOWN_VALUE,
  readFileUtf8,
  validateInputs,
  type CheckFailure,
  type NormalizedInputs,
  type ReadFile,
} from "../inputs";
import {
  checkHintsOf,
  checkedInputs,
  observedOf,
  resourceUrnOf,
  type CheckedInputs,
  type Observed,
} from "./checked";

/**
 * The input the SDK adds to carry the Pulumi resource name, which a dynamic provider's `check` is
 * not told and `clusterName` defaults to. It is consumed here and not kept in the checked inputs.
 */
export const RESOURCE_NAME_INPUT = "resourceName";

/**
 * The input the SDK adds to carry the resource's URN, which a dynamic provider is not told either
 * and progress messages are attributed to. Kept in the checked inputs (and the state) as is.
 */
export const RESOURCE_URN_INPUT = "resourceUrn";

/** Outcome of {@link checkConnection}; the shape a dynamic provider's `check` returns. */
export interface ConnectionCheckResult {
  /** The checked inputs, or the inputs as received when a failure leaves nothing checked. */
  inputs: CheckedInputs | Record<string, unknown>;
  failures: CheckFailure[];
  /**
   * What the cluster checks observed, when they ran: for the apply that follows in the same
   * process (`./recent-checks.ts`). Held in memory only; the engine is given `inputs` and
   * `failures` alone.
   */
  facts?: ClusterFacts;
  /**
   * With {@link CheckDependencies.defer}: the result of the cluster checks, still running when
   * `inputs` (which then carry the last check's observations) were returned.
   */
  later?: Promise<ConnectionCheckResult>;
}

/** Seams for tests; production uses the defaults. */
export interface CheckDependencies {
  /** @default readFileUtf8 */
  readFile?: ReadFile;
  /** @default the process's shared clients (`sharedKubeClients`) */
  connect?: (source: KubeconfigSource) => Promise<KubeClient>;
  /** The agent's platform settings. @default from the environment alone */
  agentPlatform?: () => AgentPlatform;
  /**
   * Do not wait for the cluster: when the connection was checked before, return at once with
   * what that check observed, and the cluster checks' own result in `later`. For an engine that
   * runs `diff` concurrently (`PULUMI_PARALLEL_DIFF`), which then awaits `later`.
   */
  defer?: boolean;
}

/** Inputs the cluster checks read: while one is unknown, the cluster is not contacted. */
const CLUSTER_CHECK_INPUTS = ["connectivity", "context", "exposeIssuerDiscovery", "kubeconfig"];

/**
 * Checks the inputs of an `EnforceClusterConnection`. Never throws for bad input or an
 * unreachable cluster: every problem is a failure that names the property and the fix, and no
 * reason contains kubeconfig contents. `olds`, the previous checked inputs, only tell where to
 * look first ({@link checkHintsOf}).
 */
export async function checkConnection(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  deps: CheckDependencies = {},
): Promise<ConnectionCheckResult> {
  const { [RESOURCE_NAME_INPUT]: resourceName, ...raw } = news;
  delete raw[RESOURCE_URN_INPUT];
  const urn = resourceUrnOf(news);
  const readFile = deps.readFile ?? readFileUtf8;
  const validated = validateInputs(raw, {
    resourceName: typeof resourceName === "string" ? resourceName : "",
    readFile,
  });
  if (validated.failures.length > 0) return { inputs: news, failures: validated.failures };
  const { inputs } = validated;

  const platform = platformSettings(deps);
  if ("failure" in platform) return { inputs: news, failures: [platform.failure] };
  const checked = (observed: Observed | typeof UNKNOWN_VALUE) =>
    checkedInputs(inputs, observed, platform.summary, urn);

  // During preview the kubeconfig of a cluster created in the same stack is not known yet: pass
  // everything through, and leave the observations unknown too, so preview of a new stack works.
  if (validated.unknown.some((property) => CLUSTER_CHECK_INPUTS.includes(property))) {
    return { inputs: checked(UNKNOWN_VALUE), failures: [] };
  }
  const hints = checkHintsOf(olds);
  const rights = newCredentials(olds, inputs);
  const run = () =>
    checkAgainstCluster(news, inputs, { hints, rights }, { ...deps, readFile }, checked);
  const last = deps.defer ? observedOf(olds) : undefined;
  if (last) return { inputs: checked(last), failures: [], later: run() };
  return run();
}

/**
 * The settings the agent receives, summarized as state keeps them. They are part of what a
 * preview compares, so a bad one is a failure on the setting it came from.
 */
function platformSettings(
  deps: CheckDependencies,
): { summary: PlatformSummary } | { failure: CheckFailure } {
  try {
    return { summary: summarizePlatform((deps.agentPlatform ?? defaultAgentPlatform)()) };
  } catch (err) {
    if (!(err instanceof PlatformConfigError)) throw err;
    return { failure: { property: err.key, reason: err.message } };
  }
}

/**
 * Connects to the cluster and runs the cluster checks: their observations go into the checked
 * inputs (via `checked`), their problems become failures, with the kubeconfig's credentials
 * redacted from every reason.
 */
async function checkAgainstCluster(
  news: Record<string, unknown>,
  inputs: NormalizedInputs,
  { hints, rights }: { hints: CheckHints; rights: boolean },
  deps: CheckDependencies & { readFile: ReadFile },
  checked: (observed: Observed) => CheckedInputs,
): Promise<ConnectionCheckResult> {
  const secrets = kubeconfigSecrets(kubeconfigText(inputs.kubeconfig, deps.readFile));
  const failure = (property: string, reason: string): CheckFailure => ({
    property,
    reason: redactKubeconfig(reason, secrets),
  });

  let client: KubeClient;
  try {
    client = await (deps.connect ?? ((source) => sharedKubeClients.connect(source)))({
      kubeconfig: inputs.kubeconfig,
      context: inputs.context,
    });
  } catch (err) {
    const { what, fix } = err instanceof Error ? splitFix(err) : { what: String(err), fix: "" };
    const input = err instanceof KubeconfigError ? err.input : "kubeconfig";
    return {
      inputs: news,
      failures: [failure(input, `${sentence(what)} Fix: ${fix ? sentence(fix) : KUBECONFIG_FIX}`)],
    };
  }
  try {
    const { facts, problems } = await checkCluster(
      client,
      {
        connectivity: inputs.connectivity,
        exposeIssuerDiscovery: inputs.exposeIssuerDiscovery,
        installRights: rights,
      },
      hints,
    );
    return {
      inputs: checked(observe(facts)),
      facts,
      failures: problems.map((p: Problem) =>
        failure(p.property, `${sentence(p.reason)} Fix: ${p.remedy}`),
      ),
    };
  } finally {
    client.close();
  }
}

/**
 * Whether the check asks if the credentials may install the agent: when the connection was never
 * checked against a cluster, or its kubeconfig or context changed since. An unchanged
 * connection's check sends no review: its credentials installed it already.
 */
function newCredentials(olds: Record<string, unknown>, inputs: NormalizedInputs): boolean {
  if (!observedOf(olds)) return true;
  return olds.kubeconfig !== inputs.kubeconfig || (olds.context ?? "") !== (inputs.context ?? "");
}

const KUBECONFIG_FIX =
  'Pass a kubeconfig whose context names a reachable cluster and usable credentials ("kubectl config view --raw --minify" prints the current one).';

function observe(facts: ClusterFacts): Observed {
  return {
    activeKeyId: facts.activeKeyId,
    agentNamespaceUid: facts.agentNamespaceUid,
    clusterUid: facts.clusterUid,
    connectivity: facts.connectivity,
    issuer: facts.issuer,
    jwksUri: facts.anonymousDiscovery.keys?.uri ?? "",
    signingKeyIds: [...facts.signingKeyIds].sort(),
  };
}

function defaultAgentPlatform(): AgentPlatform {
  return agentPlatformOf(resolvePlatformConfig({}));
}

/** The kubeconfig's contents, for redaction; `""` if a path can no longer be read. */
function kubeconfigText(kubeconfig: string, readFile: ReadFile): string {
  if (isInlineKubeconfig(kubeconfig)) return kubeconfig;
  try {
    return readFile(kubeconfig);
  } catch {
    return "";
  }
}

/** Ends a reason with a full stop so that a fix can follow it. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
