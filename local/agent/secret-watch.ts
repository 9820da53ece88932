/**
 * Keeps an up-to-date copy of Secret `gulfstream/mcp-creds` with a Kubernetes
 * list+watch: list once for a resourceVersion, watch from there, resume from
 * the last version seen (bookmarks included) when the server ends the watch,
 * list again when the version has expired (410 Gone), and reconnect with
 * backoff when the connection fails.
 */
import type { V1Secret } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { KubeApiError, type AgentAccess, type WatchEvent } from "./kube";
import { SECRET_REF } from "./names";
import { abortable, backoffMs, sleep, Wakeup } from "./wait";

/** What the watch knows right now. */
export interface SecretSnapshot {
  /** A first list succeeded: `secret` is the cluster's state, not a guess. */
  synced: boolean;
  /** The Secret, or undefined when it does not exist. */
  secret: V1Secret | undefined;
  /** The last failure, until the watch works again. */
  error: string | undefined;
}

/** Options of {@link SecretWatch}. */
export interface SecretWatchOptions {
  kube: Pick<AgentAccess, "listSecret" | "watchSecret">;
  /** Called after every change of the snapshot (the Secret, sync or error). */
  changed: () => void;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Largest delay between reconnection attempts. @default 15000 */
  maxRetryMs?: number;
  /**
   * Start by watching from this resourceVersion instead of listing, as a
   * restarted agent resuming would (an expired version is listed again).
   */
  resumeFrom?: string;
  /** Server-side lifetime of one watch request. @default 300 */
  timeoutSeconds?: number;
}

type WatchOutcome = { kind: "ended"; resourceVersion: string } | { kind: "expired" };

/** A watch that connected and lasted this long counts as healthy again. */
const HEALTHY_AFTER_MS = 5000;
// The server ends a watch after timeoutSeconds; if it has not by then plus this
// margin, the connection is presumed dead (e.g. a half-open TCP connection).
const STALL_MARGIN_MS = 30_000;
// A watch request the API server accepted but never answered (one sent while it shut down) would
// otherwise hold the watch until the stall margin, and the agent would not see mcp-creds change.
const ANSWER_TIMEOUT_MS = 15_000;

/** The list+watch loop; {@link SecretWatch.run} returns once `signal` aborts. */
export class SecretWatch {
  private state: SecretSnapshot = { synced: false, secret: undefined, error: undefined };
  private readonly retry = new Wakeup();

  constructor(private readonly opts: SecretWatchOptions) {}

  snapshot(): SecretSnapshot {
    return this.state;
  }

  /** Ends a wait before the next attempt now, e.g. once the agent's pod (and token) exist. */
  retryNow(): void {
    this.retry.poke();
  }

  async run(): Promise<void> {
    const { signal } = this.opts;
    let resourceVersion = this.opts.resumeFrom;
    let failures = 0;
    while (!signal.aborted) {
      const started = Date.now();
      const listing = resourceVersion === undefined;
      try {
        if (resourceVersion === undefined) {
          const list = await abortable(this.opts.kube.listSecret(), signal);
          resourceVersion = list.resourceVersion;
          this.update({ synced: true, secret: list.secret, error: undefined });
        }
        const outcome = await this.watchOnce(resourceVersion);
        if (outcome.kind === "ended") {
          resourceVersion = outcome.resourceVersion;
          // A server that ends watches at once would otherwise make this spin.
          if (Date.now() - started >= HEALTHY_AFTER_MS) failures = 0;
          else await sleep(backoffMs(failures++, 500, this.maxRetryMs), signal);
          continue;
        }
      } catch (err) {
        if (signal.aborted) break;
        const e = err as Error & { statusCode?: number };
        // 410 as the answer to the watch request, rather than as an event: same meaning.
        if (e.statusCode !== 410) {
          if (Date.now() - started >= HEALTHY_AFTER_MS) failures = 0;
          const delay = backoffMs(failures++, 500, this.maxRetryMs);
          const why = describe(e);
          // Said once per reason: the same failure again is only a retry.
          if (why !== this.state.error) {
            this.update({ ...this.state, error: why });
            this.opts.log(
              `${SECRET_REF}: watch failed (${why}); retrying in ${(delay / 1000).toFixed(1)}s`,
            );
          }
          await this.retry.wait(delay, signal);
          continue;
        }
      }
      // The version is too old (compacted, or older than the watch cache): list again.
      this.opts.log(`${SECRET_REF}: watch resourceVersion expired (410 Gone); listing again`);
      resourceVersion = undefined;
      // Expiring right after a fresh list would repeat forever: slow down then.
      if (listing) await sleep(backoffMs(failures++, 500, this.maxRetryMs), signal);
    }
  }

  private get maxRetryMs(): number {
    return this.opts.maxRetryMs ?? 15_000;
  }

  private update(next: SecretSnapshot): void {
    this.state = next;
    this.opts.changed();
  }

  /** One watch request, from `from` until the server or an error ends it. */
  private watchOnce(from: string): Promise<WatchOutcome> {
    const { signal } = this.opts;
    const timeoutSeconds = this.opts.timeoutSeconds ?? 300;
    return new Promise<WatchOutcome>((resolve, reject) => {
      let last = from;
      let settled = false;
      let expired = false;
      let failure: Error | undefined;
      let stop: (() => void) | undefined;
      let stoppedByUs = false;

      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(stall);
        clearTimeout(unanswered);
        signal.removeEventListener("abort", end);
        if (expired) resolve({ kind: "expired" });
        else if (failure) reject(failure);
        else if (err && !stoppedByUs) reject(err);
        else resolve({ kind: "ended", resourceVersion: last });
      };
      const end = () => {
        stoppedByUs = true;
        if (stop) stop();
        else finish(null);
      };
      const stall = setTimeout(end, timeoutSeconds * 1000 + STALL_MARGIN_MS);
      const unanswered = setTimeout(() => {
        if (stop) return;
        failure = new Error(
          `the API server did not answer the watch request within ${ANSWER_TIMEOUT_MS / 1000}s`,
        );
        end();
      }, ANSWER_TIMEOUT_MS);
      signal.addEventListener("abort", end, { once: true });

      const onEvent = (e: WatchEvent) => {
        if (settled) return;
        const rv = e.object?.metadata?.resourceVersion;
        switch (e.type) {
          case "ADDED":
          case "MODIFIED":
            if (rv) last = rv;
            this.update({ synced: true, secret: e.object as V1Secret, error: undefined });
            break;
          case "DELETED":
            if (rv) last = rv;
            this.update({ synced: true, secret: undefined, error: undefined });
            break;
          case "BOOKMARK":
            if (rv) last = rv;
            break;
          case "ERROR":
            if (e.object?.code === 410) expired = true;
            else {
              failure = new Error(
                `the API server sent an error event: ${e.object?.code ?? "?"} ${e.object?.message ?? ""}`.trim(),
              );
            }
            end();
            break;
        }
      };

      this.opts.kube
        .watchSecret(from, timeoutSeconds, { event: onEvent, done: finish })
        .then((abort) => {
          clearTimeout(unanswered);
          stop = abort;
          // Ended before the request got going (stopped, or stalled): close it now.
          if (settled || stoppedByUs) return abort();
          if (this.state.error !== undefined) {
            // Connected again: the failure is over.
            this.update({ ...this.state, error: undefined });
          }
        }, finish);
    });
  }
}

function describe(err: Error & { statusCode?: number; code?: unknown }): string {
  // Its message names the call and the HTTP status or the network error already.
  if (err instanceof KubeApiError) return err.message;
  if (err.statusCode !== undefined) return `HTTP ${err.statusCode}: ${err.message}`;
  if (typeof err.code === "string") return `${err.code}: ${err.message}`;
  return err.message;
}
