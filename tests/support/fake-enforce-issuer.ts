/**
 * A stand-in for the Enforce issuer the agent registers with: a loopback HTTPS server that
 * records register/heartbeat calls and answers per docs/platform-api.md, with a certificate of
 * the cluster's own CA. Its URL and CA reach the agent only through ConfigMap
 * `gulfstream/config-platform`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { ReadyFile } from "../../local/control-plane/environment";
import type { AgentPlatform } from "../../provider/install/platform-settings";

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** One call the issuer received. */
export interface IssuerCall {
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

/** What the issuer answers to a call. */
export type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/** The running issuer, what it was called with, and how it answers. */
export interface FakeEnforceIssuer {
  url: string;
  ca: string;
  /** Where the agent finds this issuer when a connection installs it (API and issuer alike). */
  platform: AgentPlatform;
  calls: IssuerCall[];
  registers(): IssuerCall[];
  heartbeats(): IssuerCall[];
  /** Overrides the answer to a register call; the default accepts it. */
  onRegister: (call: IssuerCall, n: number) => Answer | undefined;
  clusterId: string;
  close(): Promise<void>;
}

/**
 * Serves HTTPS with the cluster's API server certificate (127.0.0.1), so the cluster's CA is
 * the one to trust for it; it reaches the agent only through the installed ConfigMap.
 */
export async function startFakeEnforceIssuer(
  cluster: ReadyFile["clusters"][number],
): Promise<FakeEnforceIssuer> {
  const dir = path.dirname(cluster.caFile);
  const group = hex(20);
  const fake: FakeEnforceIssuer = {
    url: "",
    ca: fs.readFileSync(cluster.caFile, "utf8"),
    platform: { apiUrl: "", issuerUrl: "" },
    calls: [],
    registers: () => fake.calls.filter((c) => c.path === "/auth/v1/register"),
    heartbeats: () => fake.calls.filter((c) => c.path === "/auth/v1/heartbeat"),
    onRegister: () => undefined,
    clusterId: `${group}/${hex(8)}`,
    close: async () => undefined,
  };
  const server = https.createServer(
    {
      cert: fs.readFileSync(path.join(dir, "apiserver.crt")),
      key: fs.readFileSync(path.join(dir, "apiserver.key")),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const reply = ({ status, body, headers }: Answer) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        };
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        } catch {
          return reply({ status: 400, body: { code: 3, message: "body is not JSON" } });
        }
        const call: IssuerCall = {
          path: req.url ?? "",
          authorization: req.headers.authorization ?? "",
          body,
        };
        fake.calls.push(call);
        if (req.method === "POST" && call.path === "/auth/v1/register") {
          return reply(
            fake.onRegister(call, fake.registers().length) ?? {
              status: 200,
              body: { identity: `${group}/${hex(8)}`, group, clusterId: fake.clusterId },
            },
          );
        }
        if (req.method === "POST" && call.path === "/auth/v1/heartbeat") {
          return reply({ status: 200, body: { lastSeen: new Date().toISOString() } });
        }
        reply({ status: 404, body: { code: 5, message: `no route ${call.path}`, details: [] } });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.platform = { apiUrl: fake.url, issuerUrl: fake.url, ca: fake.ca };
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
