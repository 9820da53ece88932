/**
 * The agent's state machine: one pass compares what the cluster holds (the
 * agent's StatefulSet, read as its kubelet would, then with the agent's own
 * token the namespace, the platform settings and `mcp-creds`) with what was
 * last registered, registers or heartbeats as needed, records the
 * outcome (and reports registrations, refusals and failures as Events on the
 * StatefulSet), and says when the next pass is due. Passes run one at a time;
 * a change of the Secret wakes the loop early.
 */
import { dataDigest, readCreds, type Creds } from "./creds";
import type { AgentEvent, EventRecorder } from "./events";
import { describeIssuerFailure, type AgentIssuer } from "./issuer";
import { KubeApiError, type AgentAccess, type BootstrapAccess } from "./kube";
import {
  AGENT_CONTAINER,
  NAMESPACE_REF,
  PLATFORM_TOKEN_PATH,
  SECRET_REF,
  SERVICE_ACCOUNT_REF,
  STATEFULSET_REF,
} from "./names";
import { readPlatformSettings, type PlatformSettings } from "./platform";
import { PodView } from "./pod";
import type { Projection } from "./projection";
import type { SecretWatch } from "./secret-watch";
import { writeStatusFile, type AgentState, type AgentStatus } from "./status";
import { abortable, backoffMs, StoppedError, type Wakeup } from "./wait";

/** What a {@link Reconciler} works with. */
export interface ReconcilerDeps {
  /** The kubelet's credential: the StatefulSet only. */
  bootstrap: Pick<BootstrapAccess, "readStatefulSet">;
  /** The agent's own credential, for everything else. */
  kube: Pick<AgentAccess, "readNamespace" | "readConfigMap">;
  /** The pod's projected tokens. */
  projection: Projection;
  /** An issuer client for the platform settings the installation gives. */
  issuerFor: (settings: PlatformSettings) => AgentIssuer;
  watch: Pick<SecretWatch, "snapshot" | "retryNow">;
  /** Reports registration outcomes as Events on the agent's StatefulSet. */
  events: Pick<EventRecorder, "record">;
  wake: Wakeup;
  /** Already scrubbed of credentials by the caller. */
  log: (line: string) => void;
  /** Told every credential the agent handles, so the log can scrub it. */
  remember: (secret: string) => void;
  signal: AbortSignal;
  statusFile: string | undefined;
  agentVersion: string;
  heartbeatMs: number;
  refusedRetryMs: number;
  maxRetryMs: number;
}

interface Registration {
  /**
   * Namespace UID, StatefulSet UID, platform settings digest and Secret data digest the
   * registration was made with.
   */
  key: string;
  remoteId: string;
  workloadUid: string;
  platformDigest: string;
  clusterId: string;
  registeredAt: string;
}

/** First retry delay while waiting or after a transient error; doubles up to `maxRetryMs`. */
const FIRST_RETRY_MS = 1000;
/** A pass that waits only for the watch still looks again this often. */
const IDLE_MS = 60_000;

/** Runs passes until the signal aborts. */
export class Reconciler {
  private registration: Registration | undefined;
  private issuer: { digest: string; issuer: AgentIssuer } | undefined;
  private refusal: { key: string; until: number } | undefined;
  private remoteId: string | null = null;
  private attempt = 0;
  private nextHeartbeat = 0;
  private heartbeatFailing = false;
  private status: AgentStatus = {
    state: "waiting",
    reason: "starting",
    remoteId: null,
    clusterId: null,
    registeredAt: null,
    lastHeartbeat: null,
  };

  constructor(private readonly d: ReconcilerDeps) {}

  async run(): Promise<void> {
    this.write();
    while (!this.d.signal.aborted) {
      let delay: number;
      try {
        delay = await this.pass();
      } catch (err) {
        if (err instanceof StoppedError || this.d.signal.aborted) break;
        const reason =
          err instanceof KubeApiError
            ? `Kubernetes API: ${err.message}`
            : `unexpected failure: ${(err as Error).message}`;
        delay = this.notRegistered("error", reason);
      }
      await this.d.wake.wait(delay, this.d.signal);
    }
    await this.issuer?.issuer.destroy();
  }

  /** One look at the cluster; resolves with the delay until the next one. */
  private async pass(): Promise<number> {
    // The namespace UID this pass reads, if it gets that far: without its pod (or its token)
    // the agent sees no namespace, and must not report one it saw before.
    this.remoteId = null;
    // The kubelet's part: the agent runs only as the pod of its StatefulSet.
    const sts = await abortable(this.d.bootstrap.readStatefulSet(), this.d.signal);
    if (!sts || sts.terminating) {
      this.d.projection.setPod(undefined);
      return this.notRegistered(
        "waiting",
        sts
          ? `${STATEFULSET_REF} is being deleted (the agent is being uninstalled)`
          : `${STATEFULSET_REF} not found (the agent is not installed)`,
      );
    }
    const pod = PodView.of(sts.template, AGENT_CONTAINER);
    if (typeof pod === "string") return this.notRegistered("error", `${STATEFULSET_REF}: ${pod}`);
    // A new pod has its tokens now: the watch need not wait out its backoff.
    if (this.d.projection.setPod(sts.uid, pod)) this.d.watch.retryNow();

    // The agent's part, with its own token from here on.
    const snap = this.d.watch.snapshot();
    if (!snap.synced) {
      if (snap.error)
        return this.notRegistered("error", `cannot list ${SECRET_REF}: ${snap.error}`);
      return IDLE_MS; // the first list is under way; it wakes us when done
    }
    const ns = await abortable(this.d.kube.readNamespace(), this.d.signal);
    this.remoteId = ns?.uid ?? null;
    if (!ns) return this.notRegistered("waiting", `${NAMESPACE_REF} not found`);
    if (ns.terminating) return this.notRegistered("waiting", `${NAMESPACE_REF} is being deleted`);
    const platform = await abortable(
      readPlatformSettings(pod, (name) => this.d.kube.readConfigMap(name)),
      this.d.signal,
    );
    if (!platform.ok)
      return this.failed(sts.uid, `no platform to register with: ${platform.reason}`);
    if (!snap.secret) return this.notRegistered("waiting", `${SECRET_REF} not found`);
    const read = readCreds(snap.secret.data);
    if (!read.ok) return this.notRegistered("waiting", read.reason, "not registering");
    this.d.remember(read.creds.code);

    // A new StatefulSet is a new agent installation, and new platform settings another
    // platform: either registers afresh.
    const settings = platform.settings;
    const key = `${ns.uid}/${sts.uid}/${settings.digest}/${dataDigest(snap.secret.data)}`;
    const current = this.registration;
    if (current?.key === key) return this.heartbeat(current, settings);
    if (current) {
      const why =
        current.remoteId !== ns.uid
          ? `${NAMESPACE_REF} has a new UID`
          : current.workloadUid !== sts.uid
            ? `${STATEFULSET_REF} has a new UID`
            : current.platformDigest !== settings.digest
              ? `the platform settings changed (issuer ${settings.issuerUrl})`
              : `${SECRET_REF} changed`;
      this.d.log(`${why}; registering again`);
      this.registration = undefined;
    }
    const now = Date.now();
    if (this.refusal?.key === key && now < this.refusal.until) return this.refusal.until - now;
    return this.register(key, ns.uid, sts.uid, read.creds, settings);
  }

  /** The issuer client for `settings`, made anew when they change. */
  private issuerOf(settings: PlatformSettings): AgentIssuer {
    if (this.issuer?.digest !== settings.digest) {
      void this.issuer?.issuer.destroy();
      this.issuer = { digest: settings.digest, issuer: this.d.issuerFor(settings) };
    }
    return this.issuer.issuer;
  }

  /** The platform token's source, or why the pod has none. */
  private platformTokens() {
    const source = this.d.projection.tokenAt(PLATFORM_TOKEN_PATH);
    return typeof source === "string" ? `${STATEFULSET_REF}: ${source}` : source;
  }

  /** Records a failure that stops registration, reported as an Event when it is new. */
  private async failed(workloadUid: string, reason: string): Promise<number> {
    const isNew = this.changes("error", reason);
    const delay = this.notRegistered("error", reason);
    if (isNew) await this.report(workloadUid, "Warning", "RegistrationFailed", reason);
    return delay;
  }

  private async register(
    key: string,
    remoteId: string,
    workloadUid: string,
    creds: Creds,
    settings: PlatformSettings,
  ): Promise<number> {
    let issuer: AgentIssuer;
    try {
      issuer = this.issuerOf(settings);
    } catch (err) {
      return this.failed(workloadUid, `no usable issuer: ${(err as Error).message}`);
    }
    const tokens = this.platformTokens();
    if (typeof tokens === "string") return this.failed(workloadUid, tokens);
    const minted = await abortable(tokens.fresh(), this.d.signal);
    if (!minted) return this.notRegistered("waiting", `${SERVICE_ACCOUNT_REF} not found`);
    this.d.remember(minted.token);
    this.d.log(
      `registering cluster "${creds.clusterName}" (remoteId ${remoteId}) at ${settings.issuerUrl}`,
    );
    let clusterId: string;
    try {
      const res = await abortable(
        issuer.client.register(minted.token, {
          code: creds.code,
          remoteId,
          clusterName: creds.clusterName,
          clusterDescription: creds.clusterDescription,
          ...(creds.identityId !== undefined ? { identityId: creds.identityId } : {}),
          agentVersion: this.d.agentVersion,
        }),
        this.d.signal,
      );
      clusterId = res.clusterId;
    } catch (err) {
      if (err instanceof StoppedError) throw err;
      return this.registrationFailed(key, workloadUid, err);
    }
    return this.registered(key, remoteId, workloadUid, settings.digest, clusterId);
  }

  /** Records a registration the issuer did not accept; returns the delay before the next try. */
  private async registrationFailed(
    key: string,
    workloadUid: string,
    err: unknown,
  ): Promise<number> {
    const failure = describeIssuerFailure("registration", err);
    if (failure.kind === "refused") {
      // The same inputs would be refused again: retry when they change, or much later.
      this.refusal = { key, until: Date.now() + this.d.refusedRetryMs };
      const isNew = this.changes("refused", failure.reason);
      this.notRegistered("refused", failure.reason, "");
      if (isNew) {
        await this.report(workloadUid, "Warning", "RegistrationRefused", failure.reason);
      }
      return this.d.refusedRetryMs;
    }
    const isNew = this.changes("error", failure.reason);
    const delay = this.notRegistered("error", failure.reason, "");
    if (isNew) await this.report(workloadUid, "Warning", "RegistrationFailed", failure.reason);
    return delay;
  }

  /** Records a registration the issuer accepted; returns the delay before the first heartbeat. */
  private async registered(
    key: string,
    remoteId: string,
    workloadUid: string,
    platformDigest: string,
    clusterId: string,
  ): Promise<number> {
    const registeredAt = new Date().toISOString();
    this.registration = {
      key,
      remoteId,
      workloadUid,
      platformDigest,
      clusterId,
      registeredAt,
    };
    this.refusal = undefined;
    this.attempt = 0;
    this.heartbeatFailing = false;
    this.nextHeartbeat = Date.now() + this.d.heartbeatMs;
    const configured = `configured with ID: ${remoteId} (cluster ${clusterId})`;
    this.d.log(configured);
    const reason = `configured with ID: ${remoteId}`;
    const isNew = this.changes("registered", reason);
    this.setStatus({
      state: "registered",
      reason,
      remoteId,
      clusterId,
      registeredAt,
      lastHeartbeat: null,
    });
    if (isNew) await this.report(workloadUid, "Normal", "Registered", configured);
    return this.d.heartbeatMs;
  }

  /**
   * Whether recording `state` and `reason` changes what the status says:
   * Events are reported on such transitions only, not on every retry that
   * meets the same answer.
   */
  private changes(state: AgentState, reason: string): boolean {
    return this.status.state !== state || this.status.reason !== reason;
  }

  /** Reports an Event on the StatefulSet; a failure to post it is logged by the recorder. */
  private report(
    workloadUid: string,
    type: AgentEvent["type"],
    reason: AgentEvent["reason"],
    message: string,
  ): Promise<void> {
    return this.d.events.record(workloadUid, { type, reason, message });
  }

  private async heartbeat(reg: Registration, settings: PlatformSettings): Promise<number> {
    const due = this.nextHeartbeat - Date.now();
    if (due > 0) return due;
    const tokens = this.platformTokens();
    if (typeof tokens === "string") return this.failed(reg.workloadUid, tokens);
    const minted = await abortable(tokens.current(), this.d.signal);
    if (!minted) return this.notRegistered("waiting", `${SERVICE_ACCOUNT_REF} not found`);
    this.d.remember(minted.token);
    try {
      await abortable(
        this.issuerOf(settings).client.heartbeat(minted.token, {
          clusterId: reg.clusterId,
          agentVersion: this.d.agentVersion,
        }),
        this.d.signal,
      );
      if (this.heartbeatFailing) this.d.log(`heartbeat of cluster ${reg.clusterId} works again`);
      this.heartbeatFailing = false;
      this.setStatus({
        ...this.status,
        reason: `configured with ID: ${reg.remoteId}`,
        lastHeartbeat: new Date().toISOString(),
      });
    } catch (err) {
      if (err instanceof StoppedError) throw err;
      const failure = describeIssuerFailure("heartbeat", err);
      // A refused token may be one the cluster no longer accepts (rotated key, new ServiceAccount).
      if (failure.statusCode === 401) tokens.invalidate();
      this.heartbeatFailing = true;
      this.d.log(failure.reason);
      this.setStatus({ ...this.status, reason: failure.reason });
    }
    this.nextHeartbeat = Date.now() + this.d.heartbeatMs;
    return this.d.heartbeatMs;
  }

  /**
   * Records a state other than registered and returns the delay before the
   * next look: growing while the same reason persists, short again when it
   * changes. Waiting reasons are logged when they change; refusals and
   * errors every time, as each one is a new answer.
   */
  private notRegistered(state: AgentState, reason: string, prefix: string = state): number {
    const same = this.status.state === state && this.status.reason === reason;
    this.attempt = same ? this.attempt + 1 : 0;
    if (!same || state === "refused" || state === "error") {
      this.d.log(prefix ? `${prefix}: ${reason}` : reason);
    }
    this.registration = undefined;
    this.setStatus({
      state,
      reason,
      remoteId: this.remoteId,
      clusterId: null,
      registeredAt: null,
      lastHeartbeat: null,
    });
    return backoffMs(this.attempt, FIRST_RETRY_MS, this.d.maxRetryMs);
  }

  private setStatus(next: AgentStatus): void {
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    this.status = next;
    this.write();
  }

  private write(): void {
    if (!this.d.statusFile) return;
    try {
      writeStatusFile(this.d.statusFile, this.status);
    } catch (err) {
      this.d.log(`cannot write status file ${this.d.statusFile}: ${(err as Error).message}`);
    }
  }
}
