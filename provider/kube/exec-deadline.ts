/**
 * A deadline for a kubeconfig's exec credential plugin. @kubernetes/client-node runs the plugin
 * (`ExecAuth`, its `exec_auth.js`) with `child_process.spawn`, no timeout, and waits for it to
 * exit: a plugin waiting for a login prompt, a browser or a network that never answers would hold
 * every request, and so `check`, forever. Here each run of the plugin gets
 * {@link EXEC_PLUGIN_TIMEOUT_MS}: spawn's own `timeout` stops it (SIGKILL) through `ExecAuth`'s
 * `execFn` (the seam the library's own tests use), and the wait for the credential is bounded as
 * well, so that a library version without that seam still cannot hang (its plugin would then be
 * left running).
 * @module
 */

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import type { KubeConfig } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { KubeconfigError } from "./errors";

/** How long an exec credential plugin may run before it is stopped and the request fails. */
export const EXEC_PLUGIN_TIMEOUT_MS = 20_000;

/** How much longer than the plugin's deadline the wait for its credential may last. */
const GRACE_MS = 1_000;

/** The exec settings of a kubeconfig user, in either of the places a kubeconfig puts them. */
interface ExecUser {
  exec?: { command?: unknown };
  authProvider?: { config?: { exec?: { command?: unknown } } };
}

type Spawn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

/** The deadline of one client's exec plugin (none when its user has no exec plugin). */
export class ExecDeadline {
  /** The plugin's command, as the kubeconfig names it. */
  readonly command: string | undefined;
  /** When a run of the plugin was last stopped for its deadline (epoch ms; 0: never). */
  private stoppedAt = 0;

  constructor(
    kc: KubeConfig,
    user: ExecUser | null,
    private readonly timeoutMs = EXEC_PLUGIN_TIMEOUT_MS,
  ) {
    const command = user?.exec?.command ?? user?.authProvider?.config?.exec?.command;
    this.command = typeof command === "string" ? command : undefined;
    if (this.command) this.limitSpawns(kc);
  }

  /**
   * `credentials` (the kubeconfig's `applyToHTTPSOptions`), failing with a
   * {@link KubeconfigError} that names the plugin when the plugin did not answer in time.
   */
  async bound<T>(credentials: Promise<T>): Promise<T> {
    if (!this.command) return credentials;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timeoutError(false)), this.timeoutMs + GRACE_MS);
    });
    try {
      return await Promise.race([credentials, late]);
    } catch (err) {
      // Requests sent at once each ran the plugin: each run stopped fails its own request.
      if (this.stoppedAt < started) throw err;
      throw this.timeoutError(true);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Makes the library's `ExecAuth` spawn the plugin with a timeout. */
  private limitSpawns(kc: KubeConfig): void {
    // A private field of the library's KubeConfig: the authenticators it tries in turn.
    const authenticators = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
    for (const authenticator of authenticators) {
      const auth = authenticator as { execFn?: unknown };
      if (typeof auth.execFn !== "function") continue;
      const limited: Spawn = (command, args, options) => {
        const child = spawn(command, args ?? [], {
          ...options,
          timeout: this.timeoutMs,
          killSignal: "SIGKILL",
        });
        const started = Date.now();
        child.once("exit", (_code, signal) => {
          if (signal === "SIGKILL" && Date.now() - started >= this.timeoutMs) {
            this.stoppedAt = Date.now();
          }
        });
        return child;
      };
      auth.execFn = limited;
    }
  }

  private timeoutError(stopped: boolean): KubeconfigError {
    const fix =
      `Run "${this.command}" by hand to see what it waits for (a login, a browser, the network), ` +
      "or use credentials that need no interaction.";
    const seconds = Math.round(this.timeoutMs / 1000);
    const what = stopped ? "; it was stopped" : "";
    return new KubeconfigError(
      `the kubeconfig's exec credential plugin "${this.command}" did not answer within ${seconds} s${what}. ${fix}`,
      { fix },
    );
  }
}
