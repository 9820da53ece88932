import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { parse } from "yaml";
import { readStatusFile } from "../../local/agent/agent";
import { get, type TlsMaterial } from "../../local/control-plane/probe";
import type { EnforceSection } from "../../local/platform-services";
import { createImplementation } from "../../provider/impl";
import { USER_AGENT } from "../../provider/kube/client";
import { checkConnection } from "../../provider/lifecycle/check-connection";
import { observedOf, type CheckedInputs } from "../../provider/lifecycle/checked";
import { flatOutputs } from "../support/connection-fixtures";
import { emulatorContext, startOwnEnv, stopOwnEnv, type OwnEnv } from "../support/env";
import { at } from "../support/fixture";

/**
 * `enforce-local up --latency-ms 50`: every URL the environment hands out goes through a proxy
 * that delays each direction by 50 ms. The provider's checks still pass through it, a public
 * connection still registers (the agent stand-in, the emulator and the cluster's issuer all
 * reached through the proxies), and a request really pays the added round trips.
 */

const LATENCY_MS = 50;

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
  users: Array<{ user: { "client-certificate-data": string; "client-key-data": string } }>;
}

const kubeconfigOf = (file: string) => parse(fs.readFileSync(file, "utf8")) as Kubeconfig;

/** The admin credential of a kubeconfig, for plain HTTPS requests. */
function adminTls(file: string): TlsMaterial {
  const kc = kubeconfigOf(file);
  const b64 = (s: string) => Buffer.from(s, "base64");
  return {
    ca: b64(at(kc.clusters, 0).cluster["certificate-authority-data"]),
    cert: b64(at(kc.users, 0).user["client-certificate-data"]),
    key: b64(at(kc.users, 0).user["client-key-data"]),
  };
}

describe("enforce-local up --latency-ms", () => {
  let env: OwnEnv;
  const progress: string[] = [];
  const provider = createImplementation(() => emulatorContext(() => env.ready, progress));
  const cluster = () => at(env.ready.clusters, 0);
  const enforce = () => env.ready.enforce as EnforceSection;

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--latency-ms", String(LATENCY_MS)]);
  }, 600_000);
  afterAll(() => stopOwnEnv(env));

  test("ready.json, the kubeconfigs and the issuers name the proxies, and the direct URLs too", async () => {
    const c = cluster();
    expect(env.ready.latencyMs).toBe(LATENCY_MS);
    expect(c.directApiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(c.apiServer).not.toBe(c.directApiServer);
    // An API-server issuer is the URL clients use: the proxy.
    expect(c.issuer).toBe(c.apiServer);
    for (const file of [c.kubeconfig, c.agentKubeconfig]) {
      expect(at(kubeconfigOf(file).clusters, 0).cluster.server).toBe(c.apiServer);
    }
    const discovery = await get(
      `${c.apiServer}/.well-known/openid-configuration`,
      adminTls(c.kubeconfig),
    );
    expect(JSON.parse(discovery.body)).toMatchObject({
      issuer: c.apiServer,
      jwks_uri: `${c.apiServer}/openid/v1/jwks`,
    });

    const e = enforce();
    expect(e.directApiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(e.apiUrl).not.toBe(e.directApiUrl);
    expect(e.issuerUrl).toBe(e.apiUrl);
    const ca = fs.readFileSync(e.caFile);
    // The emulator names the proxy as its issuer, whichever way it is asked.
    for (const url of [e.apiUrl, e.directApiUrl!]) {
      const doc = await get(`${url}/.well-known/openid-configuration`, { ca });
      expect(JSON.parse(doc.body)).toMatchObject({
        issuer: e.issuerUrl,
        jwks_uri: `${e.issuerUrl}/.well-known/jwks.json`,
      });
    }
  });

  test("a request on a new connection through the proxy pays its round trips; direct, the same answer without them", async () => {
    const c = cluster();
    const tls = adminTls(c.kubeconfig);
    const timed = async (server: string) => {
      const started = performance.now();
      const res = await get(`${server}/version`, tls); // a new connection each time
      return { ms: performance.now() - started, res };
    };
    const proxied: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 5; i++) {
      const via = await timed(c.apiServer);
      const own = await timed(c.directApiServer!);
      expect(via.res).toEqual(own.res);
      expect(via.res.status).toBe(200);
      proxied.push(via.ms);
      direct.push(own.ms);
    }
    // A TLS 1.3 handshake (one round trip) and the request (one more): 2 × 2 × 50 ms at least.
    for (const ms of proxied) expect(ms).toBeGreaterThanOrEqual(4 * LATENCY_MS);
    // And it is the proxy that adds them (one delay of slack for a loaded machine).
    expect(Math.min(...proxied) - Math.min(...direct)).toBeGreaterThanOrEqual(3 * LATENCY_MS);
  });

  test("the provider's checks pass through the proxy: private by default, public with exposeIssuerDiscovery", async () => {
    const c = cluster();
    const news = (extra: Record<string, unknown> = {}) => ({
      __provider: "serialized provider text",
      resourceName: "conn",
      kubeconfig: fs.readFileSync(c.kubeconfig, "utf8"),
      group: enforce().group,
      ...extra,
    });
    const { inputs, failures } = await checkConnection({}, news());
    expect(failures).toEqual([]);
    expect(observedOf(inputs as CheckedInputs)).toMatchObject({
      connectivity: "private",
      issuer: c.apiServer,
    });
    // Public only because the issuer is the server the kubeconfig names: the proxy.
    const exposed = await checkConnection({}, news({ exposeIssuerDiscovery: true }));
    expect(exposed.failures).toEqual([]);
    expect(exposed.inputs).toMatchObject({ connectivity: "public" });
  });

  test("a check of a connection checked before sends every request in one round", async () => {
    const c = cluster();
    const news = {
      __provider: "serialized provider text",
      resourceName: "conn",
      kubeconfig: fs.readFileSync(c.kubeconfig, "utf8"),
      group: enforce().group,
    };
    const previous = await checkConnection({}, news);
    expect(previous.failures).toEqual([]);
    const started = new Date();
    const again = await checkConnection(previous.inputs, news);
    expect(again.failures).toEqual([]);
    const received = fs
      .readFileSync(c.auditLog, "utf8")
      .split("\n")
      .filter((line) => line.includes('"stage":"ResponseComplete"'))
      .map((line) => JSON.parse(line) as { userAgent?: string; requestReceivedTimestamp: string })
      .filter((e) => e.userAgent === USER_AGENT)
      .map((e) => Date.parse(e.requestReceivedTimestamp))
      .filter((t) => t >= started.getTime() - 5);
    expect(received).toHaveLength(5);
    // A second round would leave only once the first one's answers came back: one round trip,
    // 2 × 50 ms, after the first request arrived.
    expect(Math.max(...received) - Math.min(...received)).toBeLessThan(2 * LATENCY_MS);
  });

  test("a public connection registers: the agent, the emulator and the cluster's issuer all reached through the proxies", async () => {
    const checked = await provider.check(
      {},
      {
        resourceName: "slow-link",
        kubeconfig: fs.readFileSync(cluster().kubeconfig, "utf8"),
        group: enforce().group,
        exposeIssuerDiscovery: true,
        registrationTimeout: "120s",
      },
    );
    expect(checked.failures ?? []).toEqual([]);
    const { outs } = await provider.create({
      ...checked.inputs,
      __provider: "serialized provider",
    } as CheckedInputs);
    const o = flatOutputs(outs);
    expect(o).toMatchObject({
      connectivity: "public",
      platform: { apiUrl: enforce().apiUrl, issuerUrl: enforce().issuerUrl },
    });
    expect(o.clusterId).not.toBe("");
    // The emulator verified the agent's token with keys it fetched from the cluster's issuer,
    // which only the proxy serves.
    expect(readStatusFile(at(enforce().agents, 0).statusFile)).toMatchObject({
      state: "registered",
      clusterId: o.clusterId,
    });
  });
});
