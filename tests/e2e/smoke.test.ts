import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { kubectl, sharedEnv } from "../support/env";
import { at } from "../support/fixture";
import { createTestStack, resourceOps, type TestStack } from "../support/pulumi";

/**
 * Proves the harness, not the product: the CLI built from Go modules runs an
 * automation-API stack whose trivial dynamic resource writes a ConfigMap into
 * a local cluster, through up, preview, refresh and destroy.
 */

interface CmInputs {
  kubeconfig: string;
  name: string;
  value: string;
}

// Everything a method needs is required inside it: the engine serializes these
// functions into state and runs them in its own provider process.
const configMapProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: CmInputs) {
    const call = await kubeCall(inputs.kubeconfig);
    await call("POST", "/api/v1/namespaces/default/configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: inputs.name },
      data: { value: inputs.value },
    });
    return { id: inputs.name, outs: { ...inputs } };
  },
  async read(id: string, props: CmInputs) {
    const call = await kubeCall(props.kubeconfig);
    const cm = await call("GET", `/api/v1/namespaces/default/configmaps/${id}`);
    if (!cm) return { id: "", props: {} };
    return { id, props: { ...props, value: cm.data?.value ?? "" } };
  },
  async update(id: string, _olds: CmInputs, news: CmInputs) {
    const call = await kubeCall(news.kubeconfig);
    await call("PUT", `/api/v1/namespaces/default/configmaps/${id}`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: id },
      data: { value: news.value },
    });
    return { outs: { ...news } };
  },
  async delete(id: string, props: CmInputs) {
    const call = await kubeCall(props.kubeconfig);
    await call("DELETE", `/api/v1/namespaces/default/configmaps/${id}`);
  },
};

async function kubeCall(kubeconfigPath: string) {
  const fs = require("node:fs");
  const https = require("node:https");
  const YAML = require("yaml");
  const kc = YAML.parse(fs.readFileSync(kubeconfigPath, "utf8"));
  const cluster = kc.clusters[0].cluster;
  const user = kc.users[0].user;
  const b64 = (s: string) => Buffer.from(s, "base64");
  return (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ data?: Record<string, string> } | undefined> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, cluster.server),
        {
          method,
          ca: b64(cluster["certificate-authority-data"]),
          cert: b64(user["client-certificate-data"]),
          key: b64(user["client-key-data"]),
          headers: { "content-type": "application/json" },
        },
        (res: import("node:http").IncomingMessage) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString("utf8")));
          res.on("end", () => {
            if (res.statusCode === 404) return resolve(undefined);
            if ((res.statusCode ?? 500) >= 300)
              return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
            resolve(JSON.parse(text));
          });
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

class SmokeConfigMap extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  constructor(
    name: string,
    args: { kubeconfig: string; name: string; value: pulumi.Input<string> },
  ) {
    super(configMapProvider, name, { ...args }, {});
  }
}

describe("the Pulumi CLI harness", () => {
  const env = sharedEnv();
  const kubeconfig = at(env.clusters, 0).kubeconfig;
  const cmName = `smoke-${Date.now()}`;
  let t: TestStack;
  let value = "one";

  beforeAll(async () => {
    t = await createTestStack(env, "smoke", async () => {
      const cm = new SmokeConfigMap("cm", { kubeconfig, name: cmName, value });
      return { value: cm.value };
    });
  });
  afterAll(async () => t && (await t.cleanup()));

  const cmValue = async () => {
    const out = await kubectl(env, kubeconfig, ["-n", "default", "get", "configmap", "-o", "json"]);
    const cm = JSON.parse(out).items.find(
      (i: { metadata: { name: string } }) => i.metadata.name === cmName,
    );
    return cm?.data?.value as string | undefined;
  };

  test("pulumi version is the pinned release", async () => {
    expect(t.stack.workspace.pulumiVersion).toBe("3.274.1");
  });

  test("up creates, preview shows no changes, an input change updates in place, refresh and destroy work", async () => {
    const events: EngineEvent[] = [];
    const up = await t.stack.up({ onEvent: (e) => events.push(e) });
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.value?.value).toBe("one");
    expect(resourceOps(events).map((r) => r.op)).toContain("create");
    expect(await cmValue()).toBe("one");

    const preview = await t.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 2 });

    value = "two";
    const upd = await t.stack.up();
    expect(upd.summary.resourceChanges).toEqual({ same: 1, update: 1 });
    expect(await cmValue()).toBe("two");

    // Drift made by hand is what refresh must notice.
    await kubectl(env, kubeconfig, [
      "-n",
      "default",
      "patch",
      "configmap",
      cmName,
      "-p",
      '{"data":{"value":"three"}}',
    ]);
    const refresh = await t.stack.refresh();
    expect(refresh.summary.result).toBe("succeeded");
    const state = await t.stack.exportStack();
    const res = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::cm"));
    expect(res.outputs.value).toBe("three");

    const destroy = await t.stack.destroy();
    expect(destroy.summary.resourceChanges).toMatchObject({ delete: 2 });
    expect(await cmValue()).toBeUndefined();
  });
});
