import { checkConnection } from "../../provider/lifecycle/check-connection";
import { agentPlatformOf } from "../../provider/install/platform-settings";
import { resolvePlatformConfig } from "../../provider/platform";
import { UNKNOWN_VALUE } from "../../provider/inputs";
import type { KubeClient, KubeconfigSource } from "../../provider/kube/client";
import { at } from "../support/fixture";

/**
 * `check` without a cluster: what happens before and instead of the cluster checks. The cluster
 * checks themselves are covered against real API servers in tests/integration/provider-check.
 */

const TOKEN = "fake-token-Zr8vQm2LxW";
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev
    cluster: { server: "https://dev.example.com:6443" }
contexts:
  - name: dev
    context: { cluster: dev, user: admin }
users:
  - name: admin
    user: { token: ${TOKEN} }
`;
const GROUP = "0123456789abcdef0123456789abcdef01234567";

function news(extra: Record<string, unknown> = {}) {
  return { resourceName: "conn", kubeconfig: KUBECONFIG, group: GROUP, ...extra };
}

/** A `connect` that records its calls and fails the way an exec plugin's error would. */
function failingConnect(message: string) {
  return jest.fn(async (_source: KubeconfigSource): Promise<KubeClient> => {
    throw new Error(message);
  });
}

describe("check before the cluster checks", () => {
  test("invalid input: the failures, the inputs as received, and no connection", async () => {
    const connect = failingConnect("must not be called");
    const given = news({ group: "nope", connectivity: "sometimes" });
    const result = await checkConnection({}, given, { connect });
    expect(result.inputs).toBe(given);
    expect(result.failures.map((f) => f.property)).toEqual(["group", "connectivity"]);
    expect(connect).not.toHaveBeenCalled();
  });

  test.each(["kubeconfig", "context", "connectivity", "exposeIssuerDiscovery"])(
    "unknown %s: inputs passed through, observed unknown, no connection",
    async (property) => {
      const connect = failingConnect("must not be called");
      const result = await checkConnection({}, news({ [property]: UNKNOWN_VALUE }), { connect });
      expect(result.failures).toEqual([]);
      expect(result.inputs).toMatchObject({
        [property === "connectivity" ? "requestedConnectivity" : property]: UNKNOWN_VALUE,
        clusterUid: UNKNOWN_VALUE,
        connectivity: UNKNOWN_VALUE,
        issuer: UNKNOWN_VALUE,
        signingKeyIds: UNKNOWN_VALUE,
      });
      expect(connect).not.toHaveBeenCalled();
    },
  );

  test("an unknown input the cluster checks do not read does not stop them", async () => {
    const connect = failingConnect("connection refused");
    await checkConnection({}, news({ description: UNKNOWN_VALUE }), { connect });
    expect(connect).toHaveBeenCalledWith({ kubeconfig: KUBECONFIG, context: undefined });
  });

  test("the resource name is what clusterName defaults to, and is not kept", async () => {
    const result = await checkConnection({}, news({ resourceName: "Not A Name!" }));
    expect(result.failures).toEqual([
      expect.objectContaining({
        property: "clusterName",
        reason: expect.stringContaining('defaults to the resource name "Not A Name!"'),
      }),
    ]);
    const ok = await checkConnection({}, news({ kubeconfig: UNKNOWN_VALUE }));
    expect(ok.inputs).toMatchObject({ clusterName: "conn" });
    expect(ok.inputs).not.toHaveProperty("resourceName");
  });

  test("a kubeconfig that cannot be used fails on kubeconfig, with credentials redacted", async () => {
    const connect = failingConnect(`exec plugin: cannot log in with ${TOKEN}`);
    const result = await checkConnection({}, news(), { connect });
    expect(result.failures).toEqual([
      {
        property: "kubeconfig",
        reason: expect.stringMatching(/^exec plugin: cannot log in with \[REDACTED\]\. Fix: /),
      },
    ]);
    expect(JSON.stringify(result.failures)).not.toContain(TOKEN);
  });

  test("a kubeconfig path is read through the injected readFile, for validation and redaction", async () => {
    const readFile = jest.fn((path: string) => {
      if (path !== "/clusters/dev.yaml") throw Object.assign(new Error("no"), { code: "ENOENT" });
      return KUBECONFIG;
    });
    const connect = failingConnect(`bad token ${TOKEN}`);
    const result = await checkConnection({}, news({ kubeconfig: "/clusters/dev.yaml" }), {
      readFile,
      connect,
    });
    expect(connect).toHaveBeenCalledWith({ kubeconfig: "/clusters/dev.yaml", context: undefined });
    expect(at(result.failures, 0).reason).toContain("bad token [REDACTED]");
  });
});

describe("check: the platform settings the agent will be given", () => {
  const platform = {
    apiUrl: "https://api.example",
    issuerUrl: "https://issuer.example",
    ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  };

  test("are part of the checked inputs, the CA by its digest, also while the cluster is unknown", async () => {
    const connect = failingConnect("must not be called");
    const result = await checkConnection({}, news({ kubeconfig: UNKNOWN_VALUE }), {
      connect,
      agentPlatform: () => platform,
    });
    expect(result.failures).toEqual([]);
    expect(result.inputs).toMatchObject({
      platform: {
        apiUrl: "https://api.example",
        issuerUrl: "https://issuer.example",
        caSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(JSON.stringify(result.inputs)).not.toContain("BEGIN CERTIFICATE");
  });

  test("a setting that cannot be used fails check naming it and the fix, before any connection", async () => {
    const connect = failingConnect("must not be called");
    const result = await checkConnection({}, news(), {
      connect,
      agentPlatform: () =>
        agentPlatformOf(resolvePlatformConfig({ "enforce:caFile": "/nonexistent/ca.pem" }, {})),
    });
    expect(result.failures).toEqual([
      {
        property: "enforce:caFile",
        reason: expect.stringMatching(
          /^enforce:caFile names \/nonexistent\/ca\.pem, which cannot be read \(ENOENT\)\. Set it to the PEM file/,
        ),
      },
    ]);
    expect(connect).not.toHaveBeenCalled();
  });
});
