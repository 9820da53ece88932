/** Credentials the emulator hands out (invite codes, API tokens) and the hashes it keeps of them. */
import { createHash, randomBytes } from "node:crypto";

/** A new random credential: 32 bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** The SHA-256 hex digest under which a credential is stored. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
