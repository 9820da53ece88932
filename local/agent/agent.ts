/**
 * The agent stand-in: what the Enforce agent (and the kubelet running its pod)
 * does, for local clusters whose agent pods never run. It is given only how to
 * reach the API server and a kubelet's bootstrap credential, with which it
 * reads StatefulSet `gulfstream/meta-controlplane` and mints the tokens the
 * pod template's projected volumes declare. Everything else it does as the
 * agent's ServiceAccount `gulfstream/controller`: it reads where the platform
 * is from the installed ConfigMap, watches Secret `gulfstream/mcp-creds`,
 * registers the cluster at the issuer, heartbeats, registers again when the
 * Secret, the namespace, the workload or the platform settings change, and
 * reports what happened to the registration as Events on the StatefulSet.
 *
 * @module
 */
import { redact } from "../../provider/util/redact";
import { packageVersion } from "./version";
import { EventRecorder } from "./events";
import { createIssuer } from "./issuer";
import { BootstrapAccess } from "./kube";
import { KUBE_TOKEN_PATH, SECRET_REF, STATEFULSET_REF } from "./names";
import { Projection } from "./projection";
import { Reconciler } from "./reconciler";
import { SecretWatch } from "./secret-watch";
import { Wakeup } from "./wait";

/** Options of {@link runAgent}. */
export interface AgentOptions {
  /**
   * Kubeconfig of the cluster to act for (its current context): the API server, its CA and a
   * bootstrap credential that may read the agent's StatefulSet and mint its ServiceAccount's
   * tokens, as a kubelet may for the agent's pod.
   */
  kubeconfigPath: string;
  /** Sent as `agentVersion` at registration and heartbeat. @default "<package version>-local" */
  agentVersion?: string;
  /** Time between heartbeats once registered, in ms. @default 30000 */
  heartbeatMs?: number;
  /** Where to keep a JSON {@link AgentStatus} (written atomically); none when omitted. */
  statusFile?: string;
  /**
   * Wait before sending inputs the platform refused once more, in ms; a change
   * of the Secret or namespace retries at once. @default 30000
   */
  refusedRetryMs?: number;
  /** Largest delay between retries while waiting or after transient failures, in ms. @default 15000 */
  maxRetryMs?: number;
  /**
   * Receives one line per event; lines never contain the invite code or a
   * token (nor do the messages of the Kubernetes Events the agent posts).
   */
  log: (line: string) => void;
  /** Stops the agent; {@link runAgent} resolves soon after it aborts. */
  signal: AbortSignal;
}

export type { AgentStatus, AgentState } from "./status";
export { readStatusFile } from "./status";

/**
 * Runs the agent until `opts.signal` aborts, then resolves once its
 * connections are closed.
 *
 * @throws TypeError for an unusable option; an Error when the kubeconfig
 *   cannot be loaded. Everything that goes wrong later is logged, recorded in
 *   the status file and retried instead.
 */
export async function runAgent(opts: AgentOptions): Promise<void> {
  const heartbeatMs = positive(opts.heartbeatMs, 30_000, "heartbeatMs");
  const refusedRetryMs = positive(opts.refusedRetryMs, 30_000, "refusedRetryMs");
  const maxRetryMs = positive(opts.maxRetryMs, 15_000, "maxRetryMs");
  if (typeof opts.log !== "function") throw new TypeError("options.log must be a function");
  if (opts.signal.aborted) return;

  // Credentials the agent handled, scrubbed from every line and Event message as a
  // second line of defence: none is built from them, but a platform message could
  // echo one.
  const secrets = new Set<string>();
  const remember = (secret: string) => {
    secrets.add(secret);
    // Keep the few latest: a code and a token or two are all a line could hold.
    if (secrets.size > 8) secrets.delete(secrets.values().next().value as string);
  };
  const scrub = (text: string) => redact(text, secrets);
  const log = (line: string) => opts.log(scrub(line));

  const bootstrap = await BootstrapAccess.load(opts.kubeconfigPath);
  const projection = new Projection((spec) => bootstrap.mintToken(spec));
  const kube = bootstrap.agentAccess(
    async () => {
      const source = projection.tokenAt(KUBE_TOKEN_PATH);
      if (typeof source === "string") return { reason: `${STATEFULSET_REF}: ${source}` };
      const minted = await source.current();
      if (minted) remember(minted.token);
      return minted ? { token: minted.token } : { reason: "its ServiceAccount does not exist" };
    },
    () => {
      const source = projection.tokenAt(KUBE_TOKEN_PATH);
      if (typeof source !== "string") source.invalidate();
    },
  );
  // One signal for all loops, so a failure of one stops the other too.
  const inner = new AbortController();
  const stop = () => inner.abort();
  opts.signal.addEventListener("abort", stop, { once: true });
  const wake = new Wakeup();
  const watch = new SecretWatch({
    kube,
    changed: () => wake.poke(),
    log,
    signal: inner.signal,
    maxRetryMs,
  });
  const reconciler = new Reconciler({
    bootstrap,
    kube,
    projection,
    issuerFor: (settings) => createIssuer(settings.issuerUrl, settings.ca),
    watch,
    events: new EventRecorder({
      post: (event) => kube.createEvent(event),
      scrub,
      log,
      signal: inner.signal,
    }),
    wake,
    log,
    remember,
    signal: inner.signal,
    statusFile: opts.statusFile,
    agentVersion: opts.agentVersion ?? `${packageVersion()}-local`,
    heartbeatMs,
    refusedRetryMs,
    maxRetryMs,
  });

  log(
    `starting: running as the pod of ${STATEFULSET_REF} on ${bootstrap.server} ` +
      `(kubelet credential "${bootstrap.user}"); watching ${SECRET_REF} as the agent`,
  );
  try {
    await Promise.all([watch.run().finally(stop), reconciler.run().finally(stop)]);
  } finally {
    opts.signal.removeEventListener("abort", stop);
  }
  log("stopped");
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new TypeError(`options.${name} must be a positive number of ms, got ${String(value)}`);
  }
  return v;
}
