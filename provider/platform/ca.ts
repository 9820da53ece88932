/**
 * Reading the extra CA bundle named by `enforce:caFile` / `ENFORCE_CA_FILE`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PLATFORM_SETTINGS } from "./config";
import { PlatformConfigError } from "./errors";

/**
 * Reads a PEM CA bundle (e.g. the local emulator's self-signed CA), to pass
 * as the clients' `ca` option. Relative paths resolve against the working
 * directory (the Pulumi project directory for a provider).
 *
 * @throws {@link PlatformConfigError} naming `enforce:caFile` when the file
 *   cannot be read or holds no PEM certificate.
 */
export function readCaFile(path: string): string {
  const { key, envVar } = PLATFORM_SETTINGS.caFile;
  const fullPath = resolve(path);
  const fix = `Set it to the PEM file of the CA to trust: \`pulumi config set ${key} <path>\` or ${envVar}.`;
  let pem: string;
  try {
    pem = readFileSync(fullPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    return fail(`names ${fullPath}, which cannot be read (${code})`, err);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    return fail(`names ${fullPath}, which holds no PEM certificate`);
  }
  return pem;

  function fail(problem: string, cause?: unknown): never {
    throw new PlatformConfigError({ key, envVar, problem, fix, cause });
  }
}
