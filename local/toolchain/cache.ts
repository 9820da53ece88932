import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Root of the build cache. It lives outside any checkout so that a fresh clone
 * on the same machine (as CI makes) reuses binaries built before.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULUMI_ENFORCE_CACHE) return path.resolve(env.PULUMI_ENFORCE_CACHE);
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  return path.join(base, "pulumi-enforce");
}

/**
 * A cache key for one Go module: its pinned version plus a digest of every
 * file that decides what gets built, so an edit to go.mod or to our own Go
 * sources builds anew while a plain re-run reuses the result.
 */
export function moduleKey(moduleDir: string, version: string): string {
  const hash = crypto.createHash("sha256");
  for (const file of moduleFiles(moduleDir)) {
    hash.update(path.relative(moduleDir, file));
    hash.update("\0");
    hash.update(fs.readFileSync(file));
    hash.update("\0");
  }
  return `${path.basename(moduleDir)}-${version}-${hash.digest("hex").slice(0, 12)}`;
}

/** The files of a Go module folder that decide what gets built (.go, .mod, .sum), sorted. */
export function moduleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...moduleFiles(full));
    else if (/\.(go|mod|sum)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/**
 * Takes an exclusive lock on `dir + ".lock"` (mkdir is atomic), waiting while
 * another process builds the same key. The holder writes its pid into the
 * lock, so a lock whose holder has died (killed mid-build) is taken over at
 * once; a lock without a pid (a holder that has not written it yet, or an
 * older version of this code) is taken over once older than `staleMs`.
 * `onWait` is called once when the lock is busy, with the holder's pid if known.
 */
export async function withLock<T>(
  dir: string,
  fn: () => Promise<T>,
  staleMs = 60 * 60 * 1000,
  onWait?: (holderPid: number | undefined) => void,
): Promise<T> {
  const lock = `${dir}.lock`;
  const ownerFile = path.join(lock, "owner");
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(ownerFile, `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readOwner(ownerFile);
      let age: number;
      try {
        age = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((holder !== undefined && !isAlive(holder)) || (holder === undefined && age > staleMs)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told) {
        told = true;
        onWait?.(holder);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
