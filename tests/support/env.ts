import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { callControl } from "../../local/control-plane/control-client";
import type { ReadyFile } from "../../local/control-plane/environment";
import {
  enforceLocalBin as localBin,
  launchEnvironment,
  type LaunchedEnvironment,
} from "../../local/control-plane/launch";
import { packageRoot } from "../../local/package-root";
import type { EmulatorSection, EnforceSection } from "../../local/platform-services";
import { PlatformClient } from "../../provider/platform";
import { AuditClient, FaultClient, TokenClient } from "../../local/platform";
import type { AgentPlatform } from "../../provider/install/platform-settings";
import { newConnectionId } from "../../provider/install/ownership";
import { KubeClient } from "../../provider/kube/client";
import type { LifecycleContext } from "../../provider/lifecycle/context";
import { waitFor } from "../../local/control-plane/wait";

const run = promisify(execFile);
export const repoRoot = packageRoot();
export const enforceLocalBin = localBin();

/** The environment jest's global setup started (see global-setup.js). */
export function sharedEnv(): ReadyFile & { dir: string } {
  const dir = process.env.ENFORCE_TEST_ENV_DIR;
  if (!dir)
    throw new Error(
      "no shared environment: run through `npm test` (ENFORCE_TEST_ENV_DIR is unset)",
    );
  return {
    ...(JSON.parse(fs.readFileSync(path.join(dir, "ready.json"), "utf8")) as ReadyFile),
    dir,
  };
}

/** Runs kubectl of the environment against one cluster; resolves with stdout. */
export async function kubectl(
  env: ReadyFile,
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<string> {
  if (input !== undefined) {
    return new Promise((resolve, reject) => {
      const child = spawn(env.tools.kubectl, ["--kubeconfig", kubeconfig, ...args], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (b) => (out += b));
      child.stderr.on("data", (b) => (err += b));
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")}: ${err}`)),
      );
      child.stdin.end(input);
    });
  }
  const { stdout } = await run(env.tools.kubectl, ["--kubeconfig", kubeconfig, ...args], {
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/** A private environment for suites that stop, break or reconfigure clusters. */
export type OwnEnv = LaunchedEnvironment;

/** Starts a private environment (`enforce-local up --dir <temp> ...args`) and waits until it is ready. */
export function startOwnEnv(args: string[], timeoutMs = 180000): Promise<OwnEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-own-env-"));
  return launchEnvironment({ dir, args, timeoutMs });
}

export async function stopOwnEnv(env: OwnEnv | undefined): Promise<void> {
  if (!env) return;
  if (env.child.exitCode === null && env.child.signalCode === null) {
    const exited = new Promise((r) => env.child.once("exit", r));
    env.child.kill("SIGTERM");
    await exited;
  }
  // KEEP_TEST_ENV=1 keeps its logs for a look after the run, as for the shared environment.
  if (!process.env.KEEP_TEST_ENV) fs.rmSync(env.dir, { recursive: true, force: true });
}

/** Polls until `probe` returns a value other than undefined; fails after the deadline. */
export function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60000,
): Promise<T> {
  return waitFor(what, probe, { timeoutMs, intervalMs: 200 });
}

/** Decodes a JWT's protected header without verifying it (for reading the kid). */
export function jwtHeader(token: string): { kid?: string; alg?: string } {
  const [header = ""] = token.split(".");
  return JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
}

/**
 * Calls the environment's control socket (what `enforce-local rotate-key` and `apiserver
 * stop|start` do), e.g. `control(env, "/rotate-key", { cluster: "cluster-1" })`.
 */
export async function control(env: ReadyFile, call: string, body: unknown): Promise<void> {
  await callControl(env.controlSocket, call, body);
}

/** Where the environment's Enforce emulator is, as a connection tells its agent. */
export function emulatorPlatform(env: ReadyFile): AgentPlatform {
  const enforce = env.enforce as EnforceSection;
  return {
    apiUrl: enforce.apiUrl,
    issuerUrl: enforce.issuerUrl,
    ca: fs.readFileSync(enforce.caFile, "utf8"),
  };
}

/**
 * The provider's lifecycle context against the environment's emulator (read when called, as
 * suites start their environment in beforeAll), fast polls, progress lines into `progress`.
 */
export function emulatorContext(
  env: () => ReadyFile,
  progress: string[],
  over: Partial<LifecycleContext> = {},
): LifecycleContext {
  return {
    connect: (source) => KubeClient.load(source),
    platform: () => emulatorClient(env()),
    agentPlatform: () => emulatorPlatform(env()),
    now: () => new Date(),
    progress: (line) => progress.push(line),
    newConnectionId,
    registrationPollMs: 200,
    progressEveryMs: 3000,
    ...over,
  };
}

/** A platform client of the environment's Enforce emulator; the caller closes it. */
export function emulatorClient(env: ReadyFile): PlatformClient {
  return new PlatformClient(emulatorApi(env));
}

/** A client of the emulator's audit trail (every platform call, in order); the caller closes it. */
export function emulatorAuditClient(env: ReadyFile): AuditClient {
  return new AuditClient(emulatorApi(env));
}

/**
 * A client of the emulator's fault injection (an environment started with `--fault-injection`);
 * the caller clears its rules and closes it.
 */
export function emulatorFaultClient(env: ReadyFile): FaultClient {
  return new FaultClient(emulatorApi(env));
}

/** A client that mints more API tokens of the emulator's root group; the caller closes it. */
export function emulatorTokenClient(env: ReadyFile): TokenClient {
  return new TokenClient(emulatorApi(env));
}

/** The emulator's API URL, root-group token and CA: what its clients are built with. */
function emulatorApi(env: ReadyFile): { apiUrl: string; token: string; ca: string } {
  const enforce = env.enforce as EnforceSection;
  return {
    apiUrl: enforce.apiUrl,
    token: enforce.token,
    ca: fs.readFileSync(enforce.caFile, "utf8"),
  };
}

/** The stack configuration that points a program's connections at emulator `p`. */
export function emulatorStackConfig(
  p: Pick<EmulatorSection, "apiUrl" | "issuerUrl" | "caFile" | "token">,
): Record<string, { value: string; secret?: boolean }> {
  return {
    "enforce:apiUrl": { value: p.apiUrl },
    "enforce:issuerUrl": { value: p.issuerUrl },
    "enforce:caFile": { value: p.caFile },
    "enforce:token": { value: p.token, secret: true },
  };
}
