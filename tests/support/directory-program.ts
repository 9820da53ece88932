import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ReadyFile } from "../../local/control-plane/environment";
import { pulumiCliEnv } from "../../local/toolchain/pulumi-env";
import { repoRoot } from "./env";
import { TEST_PASSPHRASE } from "./pulumi";

/**
 * A Pulumi project on disk, run by the real CLI the way a CI job runs it: `Pulumi.yaml` and a
 * JavaScript program in a temp directory, a `file://` backend, a passphrase, and `pulumi ...
 * --non-interactive --color never` through execFile. The program declares one
 * EnforceClusterConnection whose arguments it reads from `connection.json` beside it, so a test
 * scenario is "write the settings, run the CLI".
 */

/** What one CLI run printed. */
export interface CliRun {
  /** The arguments after `pulumi`. */
  args: string[];
  stdout: string;
  stderr: string;
  /** The exit code (0 when it succeeded). */
  code: number;
}

/** The connection's arguments as `connection.json` holds them. */
export interface ConnectionSettings {
  /** The kubeconfig file the program reads; its contents are passed as a secret. */
  kubeconfigPath: string;
  /** Every other argument of EnforceClusterConnection, as JSON. */
  [arg: string]: unknown;
}

/** A directory program with one connection, and the CLI to run it. */
export interface DirectoryProgram {
  /** The project's directory (Pulumi.yaml, index.js, connection.json). */
  dir: string;
  /** The directory the stack's state and PULUMI_HOME live under. */
  base: string;
  /** Where the CLI writes its log files (its TMPDIR): none at the default verbosity. */
  logDir: string;
  /** Rewrites `connection.json`: what the next run declares. */
  declare(settings: ConnectionSettings): void;
  /**
   * Runs `pulumi <args> --non-interactive --color never`, with `env` added to the CLI's
   * environment; rejects on a non-zero exit.
   */
  cli(args: string[], timeoutMs?: number, env?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Removes the directory, its state included. */
  cleanup(): void;
}

/** Options of {@link createDirectoryProgram}. */
export interface DirectoryProgramOptions {
  /**
   * The program (`index.js`), for callers that declare something else than one connection
   * (the benchmark's fleets). @default one EnforceClusterConnection from `connection.json`
   */
  source?: string;
}

/** The connection's resource name in the program. */
export const CONNECTION_NAME = "private";

/** The repository's built SDK, which programs `require` by path. */
export const BUILT_SDK = path.join(repoRoot, "dist", "sdk");

/** The program: the repository's built SDK, one connection, its arguments from connection.json. */
function programSource(): string {
  return [
    '"use strict";',
    'const fs = require("node:fs");',
    'const path = require("node:path");',
    'const pulumi = require("@pulumi/pulumi");',
    `const { EnforceClusterConnection } = require(${JSON.stringify(BUILT_SDK)});`,
    "",
    'const settings = JSON.parse(fs.readFileSync(path.join(__dirname, "connection.json"), "utf8"));',
    "const { kubeconfigPath, ...args } = settings;",
    `new EnforceClusterConnection(${JSON.stringify(CONNECTION_NAME)}, {`,
    '  kubeconfig: pulumi.secret(fs.readFileSync(kubeconfigPath, "utf8")),',
    "  ...args,",
    "});",
    "",
  ].join("\n");
}

/**
 * Creates the project `name` in a temp directory with its stack `stack` initialised and the
 * `config` set (`{ key: { value, secret? } }`). The CLI is the environment's; the
 * dynamic-provider plugin and the language host sit beside it, and NODE_PATH lets the program
 * and the provider resolve this repository's node_modules (the project has none of its own).
 */
export async function createDirectoryProgram(
  env: ReadyFile,
  name: string,
  stack: string,
  config: Record<string, { value: string; secret?: boolean }>,
  options: DirectoryProgramOptions = {},
): Promise<DirectoryProgram> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-${name}-`));
  const dir = path.join(base, "project");
  const [home, backend] = [path.join(base, "home"), path.join(base, "state")];
  const logDir = path.join(base, "engine-log");
  for (const d of [dir, home, backend, logDir]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n`,
  );
  fs.writeFileSync(path.join(dir, "index.js"), options.source ?? programSource());
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name, version: "0.0.0", private: true, main: "index.js" }, null, 2)}\n`,
  );
  const cliEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...pulumiCliEnv({
      backendDir: backend,
      home,
      passphrase: TEST_PASSPHRASE,
      // The CLI's directory holds the language host and the dynamic-provider plugin.
      path: [path.dirname(env.tools.pulumi)],
    }),
    NODE_PATH: path.join(repoRoot, "node_modules"),
    // The CLI writes its log files (glog's) to the temporary directory.
    TMPDIR: logDir,
  };
  const cli = (args: string[], timeoutMs = 5 * 60_000, extra: NodeJS.ProcessEnv = {}) =>
    runCli(env.tools.pulumi, dir, { ...cliEnv, ...extra }, args, timeoutMs);

  await cli(["stack", "init", stack], 60_000);
  for (const [key, { value, secret }] of Object.entries(config)) {
    await cli(["config", "set", ...(secret ? ["--secret"] : []), key, value], 60_000);
  }
  return {
    dir,
    base,
    logDir,
    declare: (settings) =>
      fs.writeFileSync(path.join(dir, "connection.json"), `${JSON.stringify(settings, null, 2)}\n`),
    cli,
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}

/** Runs the CLI once; a failure says which command, with the exit code and both streams. */
function runCli(
  pulumi: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: string[],
  timeoutMs: number,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      pulumi,
      [...args, "--non-interactive", "--color", "never"],
      { cwd, env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        const result = { args, stdout, stderr, code };
        if (code === 0) return resolve(result);
        reject(
          new Error(
            `pulumi ${args.join(" ")} failed (exit ${code}${err?.killed ? ", killed after the timeout" : ""}):\n` +
              `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
          ),
        );
      },
    );
  });
}
