/**
 * Starting and stopping an emulator: a local emulator of the parts of the Enforce platform this
 * package uses, the API of docs/platform-api.md and the issuer, backed by SQLite.
 */
import { mkdir } from "node:fs/promises";
import {
  createGroup,
  createToken,
  ensureRootGroup,
  ensureRootToken,
  ensureTeamGroup,
} from "./bootstrap";
import type { Services } from "./http/context";
import { FaultRules } from "./faults";
import { IssuerDiscovery } from "./verification/discovery";
import { resolveOptions, type EmulatorOptions } from "./options";
import { closeServer, createServer, HOST, listen } from "./server";
import { SigningKey } from "./issuer/signing-key";
import { Store } from "./store";

/** How long `close()` lets calls in progress finish. */
const CLOSE_GRACE_MS = 2000;

/** A running emulator. */
export interface RunningEmulator {
  /** Base URL of the listener, e.g. `https://127.0.0.1:40123`. */
  url: string;
  port: number;
  /** The URL the emulator reports as its issuer (`publicUrl`, else `url`). */
  issuerUrl: string;
  /** The root group created at first start; the same after restarts. */
  rootGroup: string;
  /** A child group of the root ("team"), created at first start; the same after restarts. */
  teamGroup: string;
  /** An API token for the root group. A local test credential: keep it out of logs. */
  token: string;
  /** The file (mode 0600) holding {@link token}. */
  tokenPath: string;
  /** Creates a child group (an administrative shortcut the platform API does not offer). */
  createGroup(parent: string, name?: string): string;
  /** Mints another API token for `group` (administrative shortcut). */
  createToken(group: string): string;
  /** Stops listening and closes the database. */
  close(): Promise<void>;
}

/**
 * Starts the emulator on 127.0.0.1. On first start it creates the database,
 * its signing key, one root group and an API token for that group.
 */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const opts = resolveOptions(options);
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const store = Store.open(opts.dbPath);
  try {
    const now = (): number => opts.now().getTime();
    const signingKey = store.transaction(() => SigningKey.loadOrCreate(store.meta));
    const rootGroup = ensureRootGroup(store, now(), opts.rootGroup);
    const teamGroup = ensureTeamGroup(store, rootGroup, now());
    const token = await ensureRootToken(store, opts.tokenPath, rootGroup, now());
    let issuerUrl = opts.publicUrl ?? "";
    const services: Services = {
      store,
      options: opts,
      signingKey,
      issuerUrl: () => issuerUrl,
      logger: opts.logger,
      discovery: new IssuerDiscovery({
        trustedCAs: opts.trustedCAs,
        allowInsecureIssuers: opts.allowInsecureIssuers,
        timeoutMs: opts.fetchTimeoutMs,
        cacheMs: opts.jwksCacheMs,
        now: opts.now,
        logger: opts.logger,
      }),
      faults: opts.faultInjection ? new FaultRules() : undefined,
    };
    const server = createServer(services, opts.tls);
    const port = await listen(server, opts.port);
    const url = `${opts.tls ? "https" : "http"}://${HOST}:${port}`;
    issuerUrl ||= url;
    opts.logger(`listening on ${url}, issuer ${issuerUrl}, root group ${rootGroup}`);
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      issuerUrl,
      rootGroup,
      teamGroup,
      token,
      tokenPath: opts.tokenPath,
      createGroup: (parent, name = "group") => createGroup(store, parent, name, now()),
      createToken: (group) => createToken(store, group, now()),
      close: () =>
        (closing ??= closeServer(server, CLOSE_GRACE_MS).then(() => {
          store.close();
          opts.logger("stopped");
        })),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
