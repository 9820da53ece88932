/**
 * Helpers for the emulator's unit tests: a settable clock, a small HTTP
 * client, cluster signing keys that mint Kubernetes-like service-account
 * tokens, and a loopback issuer serving discovery and JWKS.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type RunningEmulator } from "../../local/emulator/emulator";
import { keyIdOf } from "../../local/emulator/issuer/signing-key";
import type { EmulatorOptions } from "../../local/emulator/options";

export const START = new Date("2031-03-01T12:00:00Z");

/** A clock the test moves by hand. */
export class Clock {
  private ms: number;
  constructor(start: Date = START) {
    this.ms = start.getTime();
  }
  readonly now = (): Date => new Date(this.ms);
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

const dirs: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "emulator-test-"));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One HTTP(S) call; `token` becomes a bearer header, `body` JSON. */
export function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; ca?: string } = {},
): Promise<Response> {
  const url = new URL(path, base);
  const payload =
    options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    };
    const req =
      url.protocol === "https:"
        ? https.request(url, { method, headers, ca: options.ca, agent: false }, onResponse)
        : http.request(url, { method, headers, agent: false }, onResponse);
    req.on("error", reject);
    req.end(payload);
  });
}

/** An emulator on a temporary data directory with the test clock; loopback http issuers allowed. */
export async function startTestEmulator(
  clock: Clock,
  options: Partial<EmulatorOptions> = {},
): Promise<RunningEmulator> {
  return startEmulator({
    dataDir: tempDir(),
    now: clock.now,
    allowInsecureIssuers: true,
    ...options,
  });
}

/** A cluster's service-account signing key. */
export class ClusterKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;

  constructor() {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.kid = keyIdOf(pair.publicKey);
  }

  jwk(): Record<string, unknown> {
    return { ...this.publicKey.export({ format: "jwk" }), kid: this.kid, alg: "RS256", use: "sig" };
  }
}

/** The JWKS a Kubernetes API server publishes for `keys`. */
export function jwksOf(...keys: ClusterKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => k.jwk()) };
}

export const AGENT_SUBJECT = "system:serviceaccount:gulfstream:controller";

/** Mints a Kubernetes-like projected service-account token. */
export async function serviceAccountToken(
  key: ClusterKey,
  claims: {
    issuer: string;
    clock: Clock;
    audience?: string | string[];
    subject?: string;
    lifetimeSeconds?: number;
    withKid?: boolean;
  },
): Promise<string> {
  const { SignJWT } = await import("jose");
  const iat = claims.clock.seconds;
  const header: { alg: string; kid?: string } = { alg: "RS256" };
  if (claims.withKid !== false) header.kid = key.kid;
  return new SignJWT({
    "kubernetes.io": {
      namespace: "gulfstream",
      serviceaccount: { name: "controller", uid: "5d3b5c3e-0000-4000-8000-000000000001" },
    },
  })
    .setProtectedHeader(header)
    .setIssuer(claims.issuer)
    .setSubject(claims.subject ?? AGENT_SUBJECT)
    .setAudience(claims.audience ?? ["gulfstream"])
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (claims.lifetimeSeconds ?? 600))
    .setJti("b7a3c7e2-0000-4000-8000-000000000002")
    .sign(key.privateKey);
}

/** How a fake issuer answers discovery. */
export type IssuerMode = "public" | "private" | "absent" | "failing";

/**
 * A Kubernetes API server's issuer discovery on loopback: `/.well-known/openid-configuration`
 * and `/openid/v1/jwks`, anonymous when public, 401 when private.
 */
export class FakeIssuer {
  mode: IssuerMode = "public";
  keys: ClusterKey[];
  /** Overrides the `issuer` in the discovery document. */
  advertisedIssuer: string | undefined;
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  /** While set, answers wait for it (a slow issuer). */
  gate: Promise<void> | undefined;
  private server!: http.Server;
  url = "";

  constructor(...keys: ClusterKey[]) {
    this.keys = keys;
  }

  async start(tls?: { key: string; cert: string }): Promise<this> {
    const listener: http.RequestListener = (req, res) => {
      this.requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
      void (this.gate ?? Promise.resolve()).then(() => this.answer(req, res));
    };
    this.server = tls ? https.createServer(tls, listener) : http.createServer(listener);
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (this.mode === "absent") return send(404, { kind: "Status", code: 404 });
    if (this.mode === "failing") return send(500, { kind: "Status", code: 500 });
    if (this.mode === "private") return send(401, { kind: "Status", code: 401 });
    if (req.url === "/.well-known/openid-configuration") {
      return send(200, {
        issuer: this.advertisedIssuer ?? this.url,
        jwks_uri: `${this.url}/openid/v1/jwks`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (req.url === "/openid/v1/jwks") return send(200, jwksOf(...this.keys));
    send(404, {});
  }
}
