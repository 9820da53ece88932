import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./env";

/**
 * The published package as a user meets it: `npm pack` of this repository and the tarball
 * installed into a fresh project, with what the install left behind read from its lockfile.
 */

const run = promisify(execFile);

/**
 * The environment for npm and the Pulumi CLI in a consumer project: without the `npm_*`
 * variables `npm test` sets (they describe this repository, not the consumer) and without
 * NODE_PATH, so nothing resolves from this repository's node_modules.
 */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "NODE_PATH") env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs npm in `cwd`, bounded by `timeoutMs`; resolves with stdout. */
export async function npm(cwd: string, args: string[], timeoutMs: number): Promise<string> {
  const { stdout } = await run("npm", args, {
    cwd,
    env: consumerEnv(),
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** What `npm pack` wrote. */
export interface Packed {
  tarball: string;
  /** Bytes, compressed. */
  size: number;
  unpackedSize: number;
  files: string[];
}

/**
 * Packs the repository into `dest`. Scripts are skipped: `prepare` would build again, and the
 * test runner has just built.
 */
export async function packRepository(dest: string): Promise<Packed> {
  const stdout = await npm(
    repoRoot,
    ["pack", "--ignore-scripts", "--json", "--pack-destination", dest],
    5 * 60_000,
  );
  const [result] = JSON.parse(stdout) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  if (!result) throw new Error(`npm pack printed no package: ${stdout}`);
  return {
    tarball: path.join(dest, result.filename),
    size: result.size,
    unpackedSize: result.unpackedSize,
    files: result.files.map((f) => f.path).sort(),
  };
}

/** The `packages` of a lockfile (v3): install location to entry. */
export type LockPackages = Record<
  string,
  {
    name?: string;
    version?: string;
    hasInstallScript?: boolean;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peer?: boolean;
  }
>;

/** A fresh project depending on the tarball and on one version of @pulumi/pulumi, installed. */
export interface Consumer {
  dir: string;
  pulumiVersion: string;
  installSeconds: number;
  lock: LockPackages;
}

/**
 * Creates `dir` with a package.json naming the tarball and `@pulumi/pulumi@pulumiVersion`, and
 * runs `npm install` there, preferring the npm cache to the registry.
 */
export async function installConsumer(
  dir: string,
  tarball: string,
  pulumiVersion: string,
): Promise<Consumer> {
  fs.mkdirSync(dir, { recursive: true });
  const manifest = {
    name: path.basename(dir),
    version: "0.0.0",
    private: true,
    dependencies: { "@pulumi/pulumi": pulumiVersion, "pulumi-enforce": `file:${tarball}` },
  };
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const started = Date.now();
  await npm(dir, ["install", "--prefer-offline", "--no-audit", "--no-fund"], 10 * 60_000);
  const installSeconds = (Date.now() - started) / 1000;
  const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8")) as {
    packages: LockPackages;
  };
  return { dir, pulumiVersion, installSeconds, lock: lock.packages };
}

/** The package a dependency `name` of the package installed at `from` resolves to, as node does. */
function resolveIn(lock: LockPackages, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (dir === "") return undefined;
    const up = dir.lastIndexOf("/node_modules/");
    dir = up < 0 ? "" : dir.slice(0, up);
  }
}

/**
 * Install locations of the package at `from` and of everything it depends on (its own
 * dependencies, transitively; peer dependencies are the project's own and left out).
 */
export function dependencyClosure(lock: LockPackages, from: string): string[] {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = lock[at];
    if (!entry) throw new Error(`the lockfile has no package at ${at}`);
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const found = resolveIn(lock, at, name);
      if (found) queue.push(found);
    }
  }
  return [...seen].sort();
}

/** Install locations of a package name, e.g. `node_modules/a/node_modules/@pulumi/pulumi`. */
export function locationsOf(lock: LockPackages, name: string): string[] {
  return Object.keys(lock)
    .filter((at) => at === `node_modules/${name}` || at.endsWith(`/node_modules/${name}`))
    .sort();
}

/** Install locations of packages with an install script (or a binding.gyp), per the lockfile. */
export function withInstallScripts(lock: LockPackages): string[] {
  return Object.entries(lock)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([at]) => at)
    .sort();
}

/**
 * Every copy of `name` that `npm ls --all --json` shows in the project, as `version path`.
 * npm ls exits non-zero on a missing or invalid (peer) dependency; that rejects here.
 */
export async function listedCopies(dir: string, name: string): Promise<string[]> {
  const stdout = await npm(dir, ["ls", name, "--all", "--json", "--long"], 60_000);
  type Node = { version?: string; path?: string; dependencies?: Record<string, Node> };
  const copies = new Set<string>();
  const walk = (node: Node) => {
    for (const [dep, child] of Object.entries(node.dependencies ?? {})) {
      if (dep === name) copies.add(`${child.version} ${path.relative(dir, child.path ?? "?")}`);
      walk(child);
    }
  };
  walk(JSON.parse(stdout) as Node);
  return [...copies].sort();
}

/** The newest version of `name` in `range` that the registry serves. */
export async function newestVersion(name: string, range: string): Promise<string> {
  const stdout = await npm(repoRoot, ["view", `${name}@${range}`, "version", "--json"], 60_000);
  const parsed = JSON.parse(stdout) as string | string[];
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => !v.includes("-"));
  // major.minor.patch: prereleases are filtered out above.
  const key = (v: string) => v.split(".").map(Number) as [number, number, number];
  versions.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  const newest = versions.at(-1);
  if (!newest) throw new Error(`the registry serves no version of ${name} in ${range}`);
  return newest;
}
