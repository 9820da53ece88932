/**
 * Emulator options and their defaults. Misuse is a TypeError naming the option.
 */
import { dirname, join, resolve } from "node:path";
import { defaultLogger, type Logger } from "./log";
import { isRoot } from "./uidp";

/** The platform's maximum (and default) lifetime of a static-key identity: 30 days. */
const PLATFORM_IDENTITY_MAX_LIFETIME_SECONDS = 30 * 24 * 3600;

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Directory for `emulator.db` and the `token` file; created when missing. One of `dataDir`/`dbPath` is required. */
  dataDir?: string;
  /** Path of the SQLite database; the `token` file goes next to it. Overrides `dataDir`'s database path. */
  dbPath?: string;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /** PEM key and certificate; serves HTTPS when given, plain HTTP (for unit tests) when not. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Extra CA certificates (PEM) trusted, besides the system CAs, when fetching a cluster issuer's discovery and keys. */
  trustedCAs?: string[];
  /** Accept `http://` issuers on loopback hosts (test issuers only). @default false */
  allowInsecureIssuers?: boolean;
  /** Cap on a static-key identity's lifetime, at most the platform's 30 days. @default 2592000 */
  identityMaxLifetimeSeconds?: number;
  /** Clock; inject one in tests. @default () => new Date() */
  now?: () => Date;
  /**
   * Id of the root group created at first start, e.g. the same organisation served by a second
   * emulator at another address. @default a random root UIDP
   */
  rootGroup?: string;
  /** Base URL the emulator reports as its issuer. @default the listening URL */
  publicUrl?: string;
  /** Timeout of each issuer discovery or JWKS fetch. @default 5000 */
  fetchTimeoutMs?: number;
  /** How long fetched issuer keys are reused (an unknown kid always refetches). @default 30 */
  jwksCacheSeconds?: number;
  /** Diagnostic sink. @default util.debuglog("enforce:emulator") */
  logger?: Logger;
  /**
   * Serve `/_emulator/v1/faults`, through which tests make calls fail (see `faults.ts`); no
   * rule is in force until one is set. @default false
   */
  faultInjection?: boolean;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  dbPath: string;
  tokenPath: string;
  dataDir: string;
  port: number;
  tls: { key: string | Buffer; cert: string | Buffer } | undefined;
  trustedCAs: string[];
  allowInsecureIssuers: boolean;
  identityMaxLifetimeMs: number;
  now: () => Date;
  publicUrl: string | undefined;
  rootGroup: string | undefined;
  fetchTimeoutMs: number;
  jwksCacheMs: number;
  logger: Logger;
  faultInjection: boolean;
}

function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`EmulatorOptions.${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Validates `options` and fills in defaults. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  if (!options.dataDir && !options.dbPath) {
    throw new TypeError("EmulatorOptions: one of dataDir or dbPath is required");
  }
  const dbPath = resolve(options.dbPath ?? join(options.dataDir as string, "emulator.db"));
  const dataDir = options.dataDir ? resolve(options.dataDir) : dirname(dbPath);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`EmulatorOptions.port must be an integer in 0..65535, got ${String(port)}`);
  }
  if (options.tls && (!options.tls.key || !options.tls.cert)) {
    throw new TypeError("EmulatorOptions.tls needs both key and cert (PEM)");
  }
  const trustedCAs = options.trustedCAs ?? [];
  if (!Array.isArray(trustedCAs) || trustedCAs.some((ca) => typeof ca !== "string")) {
    throw new TypeError("EmulatorOptions.trustedCAs must be an array of PEM strings");
  }
  const maxLifetime = positiveNumber(
    "identityMaxLifetimeSeconds",
    options.identityMaxLifetimeSeconds,
    PLATFORM_IDENTITY_MAX_LIFETIME_SECONDS,
  );
  if (maxLifetime > PLATFORM_IDENTITY_MAX_LIFETIME_SECONDS) {
    throw new TypeError(
      `EmulatorOptions.identityMaxLifetimeSeconds may not exceed the platform's ` +
        `${PLATFORM_IDENTITY_MAX_LIFETIME_SECONDS} (30 days), got ${maxLifetime}`,
    );
  }
  if (options.publicUrl !== undefined && !/^https?:\/\/[^/]+$/.test(options.publicUrl)) {
    throw new TypeError(
      `EmulatorOptions.publicUrl must be a scheme and authority with no path, got ${options.publicUrl}`,
    );
  }
  if (options.rootGroup !== undefined && !isRoot(options.rootGroup)) {
    throw new TypeError(
      `EmulatorOptions.rootGroup must be a root UIDP (40 lowercase hex digits), got ${JSON.stringify(options.rootGroup)}`,
    );
  }
  return {
    dbPath,
    tokenPath: join(dataDir, "token"),
    dataDir,
    port,
    tls: options.tls,
    trustedCAs,
    allowInsecureIssuers: options.allowInsecureIssuers ?? false,
    identityMaxLifetimeMs: maxLifetime * 1000,
    now: options.now ?? (() => new Date()),
    publicUrl: options.publicUrl,
    rootGroup: options.rootGroup,
    fetchTimeoutMs: positiveNumber("fetchTimeoutMs", options.fetchTimeoutMs, 5000),
    jwksCacheMs: positiveNumber("jwksCacheSeconds", options.jwksCacheSeconds, 30) * 1000,
    logger: options.logger ?? defaultLogger,
    faultInjection: options.faultInjection ?? false,
  };
}
