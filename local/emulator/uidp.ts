/**
 * UIDPs ("UID paths"): the platform's identifiers. A root is 40 lowercase hex
 * digits (20 random bytes); every child appends `/` and 16 hex digits, so an
 * id names its whole ancestry and scope checks are prefix checks.
 */
import { randomBytes } from "node:crypto";
import { isUidp } from "../../provider/inputs/uidp";

// One definition of the format for the whole package: the provider validates
// user input with it, the emulator its own ids.
export { isUidp };

/** A new random root UIDP. */
export function newRootUidp(): string {
  return randomBytes(20).toString("hex");
}

/** A new random child of `parent`. */
export function newChildUidp(parent: string): string {
  if (!isUidp(parent)) throw new TypeError(`parent must be a UIDP, got ${JSON.stringify(parent)}`);
  return `${parent}/${randomBytes(8).toString("hex")}`;
}

/** Whether `id` is a root UIDP (has no parent). */
export function isRoot(id: string): boolean {
  return isUidp(id) && !id.includes("/");
}

/** The parent of `id`, or undefined for a root. */
export function parentOf(id: string): string | undefined {
  const cut = id.lastIndexOf("/");
  return cut < 0 ? undefined : id.slice(0, cut);
}

/** Whether `id` is a direct child of `parent`. */
export function isChildOf(id: string, parent: string): boolean {
  return isUidp(id) && parentOf(id) === parent;
}

/** Whether `id` lies strictly below `ancestor`. */
export function isDescendantOf(id: string, ancestor: string): boolean {
  return isUidp(id) && id.length > ancestor.length + 1 && id.startsWith(`${ancestor}/`);
}

/** Whether `id` is `ancestor` itself or lies below it. */
export function isSameOrDescendantOf(id: string, ancestor: string): boolean {
  return id === ancestor || isDescendantOf(id, ancestor);
}
