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
  for (const file of listFiles(moduleDir)) {
    hash.update(path.relative(moduleDir, file));
    hash.update("\0");
    hash.update(fs.readFileSync(file));
    hash.update("\0");
  }
  return `${path.basename(moduleDir)}-${version}-${hash.digest("hex").slice(0, 12)}`;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (/\.(go|mod|sum)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/**
 * Takes an exclusive lock on `dir + ".lock"` (mkdir is atomic), waiting while
 * another process builds the same key. A lock older than `staleMs` belongs to a
 * builder that died and is taken over.
 */
export async function withLock<T>(
  dir: string,
  fn: () => Promise<T>,
  staleMs = 60 * 60 * 1000,
): Promise<T> {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = Date.now() - fs.statSync(lock).mtimeMs;
      if (age > staleMs) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
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
