/**
 * First-start state: the root group and its API token. The token is kept in
 * a `token` file (mode 0600) beside the database, which stores only its hash,
 * so a restarted emulator reports the same root group and token.
 */
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { hashSecret, newSecret } from "./secrets";
import type { Store } from "./store";
import { newChildUidp, newRootUidp } from "./uidp";

const ROOT_GROUP_KEY = "root_group";
const TEAM_GROUP_KEY = "team_group";

/** The root group, created on first start (as `wanted`, when given). */
export function ensureRootGroup(store: Store, now: number, wanted?: string): string {
  return store.transaction(() => {
    const existing = store.meta.get(ROOT_GROUP_KEY);
    if (existing !== undefined) return existing;
    const id = wanted ?? newRootUidp();
    store.groups.insert({ id, parent: undefined, name: "root", created: now });
    store.meta.set(ROOT_GROUP_KEY, id);
    return id;
  });
}

/**
 * A child group of the root, created on first start: somewhere to move a cluster to, as when a
 * connection's `group` changes.
 */
export function ensureTeamGroup(store: Store, root: string, now: number): string {
  return store.transaction(() => {
    const existing = store.meta.get(TEAM_GROUP_KEY);
    if (existing !== undefined) return existing;
    const id = createGroup(store, root, "team", now);
    store.meta.set(TEAM_GROUP_KEY, id);
    return id;
  });
}

/** Creates a child group of `parent`; throws a TypeError when `parent` does not exist. */
export function createGroup(store: Store, parent: string, name: string, now: number): string {
  return store.transaction(() => {
    if (!store.groups.get(parent)) throw new TypeError(`group ${parent} does not exist`);
    const id = newChildUidp(parent);
    store.groups.insert({ id, parent, name, created: now });
    return id;
  });
}

/** Mints an API token for `group`; only its hash is stored. */
export function createToken(store: Store, group: string, now: number): string {
  const token = newSecret();
  store.transaction(() => {
    if (!store.groups.get(group)) throw new TypeError(`group ${group} does not exist`);
    store.tokens.insert(hashSecret(token), group, now);
  });
  return token;
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The root group's token from `path`, or a new one written there when missing or unknown. */
export async function ensureRootToken(
  store: Store,
  path: string,
  rootGroup: string,
  now: number,
): Promise<string> {
  const existing = await readToken(path);
  if (existing !== undefined && store.tokens.groupOf(hashSecret(existing)) === rootGroup) {
    return existing;
  }
  const token = createToken(store, rootGroup, now);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${token}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return token;
}
