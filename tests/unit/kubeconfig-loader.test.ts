import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../support/env";

/**
 * provider/kube/kubeconfig-loader loads @kubernetes/client-node's KubeConfig without the
 * library's generated API. Module loading is Node.js's own only outside jest (jest links ES
 * modules itself), so each case runs the compiled package in a fresh process, as the provider
 * process does. A resolve hook registered first sees every module the loader resolves after its
 * own hook (hooks run last-registered first).
 */

const run = promisify(execFile);
const DIST_LOADER = path.join(repoRoot, "dist/provider/kube/kubeconfig-loader.js");
const DIST_CLIENT = path.join(repoRoot, "dist/provider/kube/client.js");

/** What the child reports. */
interface Loaded {
  resolved: string[];
  rssGrowthMiB: number;
  result: unknown;
}

/**
 * Runs `script` (async, its value reported as `result`) after loading the KubeConfig class in a
 * fresh process; `before` runs first (e.g. to take `registerHooks` away).
 */
async function inFreshProcess(script: string, before = ""): Promise<Loaded> {
  const program = `
    const nodeModule = require("node:module");
    const resolved = [];
    nodeModule.registerHooks({ resolve(s, c, next) { const r = next(s, c); resolved.push(r.url); return r; } });
    ${before}
    (async () => {
      global.gc();
      const rss = process.memoryUsage().rss;
      const KubeConfig = await require(${JSON.stringify(DIST_LOADER)}).loadKubeConfigClass();
      global.gc();
      const rssGrowthMiB = (process.memoryUsage().rss - rss) / 1048576;
      const result = await (async () => { ${script} })();
      return { resolved, rssGrowthMiB, result };
    })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ["--expose-gc", "-e", program], {
    cwd: repoRoot,
  });
  return JSON.parse(stdout) as Loaded;
}

/** Modules of the generated API: every API group, model and the index that exports them. */
const generatedApi = (urls: string[]) =>
  urls.filter((u) => /\/client-node\/dist\/gen\/(index\.js|apis\/|models\/|types\/)/.test(u));

beforeAll(() => {
  if (!fs.existsSync(DIST_LOADER)) {
    throw new Error(`${DIST_LOADER} is missing: run "npm run build" first (npm test does)`);
  }
});

describe("loadKubeConfigClass", () => {
  test("loads KubeConfig without the generated API, in less memory than the whole package", async () => {
    const loaded = await inFreshProcess(
      "return { name: KubeConfig.name, methods: typeof KubeConfig.prototype.applyToHTTPSOptions };",
    );
    expect(loaded.result).toEqual({ name: "KubeConfig", methods: "function" });
    // The credential plugins config.js brings are loaded, the generated API is not.
    expect(loaded.resolved.some((u) => u.endsWith("/client-node/dist/exec_auth.js"))).toBe(true);
    expect(generatedApi(loaded.resolved)).toEqual([]);
    // Measured on Node.js 24: about 27 MiB, against about 75 MiB for the whole package.
    expect(loaded.rssGrowthMiB).toBeLessThan(45);
  });

  test("falls back to the whole package where module.registerHooks does not exist", async () => {
    const loaded = await inFreshProcess(
      "return KubeConfig === (await import('@kubernetes/client-node')).KubeConfig;",
      "delete nodeModule.registerHooks;",
    );
    expect(loaded.result).toBe(true);
    expect(generatedApi(loaded.resolved).length).toBeGreaterThan(100);
  });

  test("the class it loads resolves exec plugin credentials for KubeClient's requests", async () => {
    // An exec plugin prints a token; a loopback server reports the Authorization it received
    // (plain HTTP, which client-node allows only with insecure-skip-tls-verify).
    const loaded = await inFreshProcess(`
      const http = require("node:http");
      const server = http.createServer((req, res) => res.end(JSON.stringify({ auth: req.headers.authorization })));
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      const credential = { apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "exec-token-7f3a" } };
      const kubeconfig = JSON.stringify({
        apiVersion: "v1", kind: "Config", "current-context": "c",
        clusters: [{ name: "c", cluster: { server: "http://127.0.0.1:" + server.address().port, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { exec: { apiVersion: credential.apiVersion, interactiveMode: "Never",
          command: process.execPath, args: ["-e", "process.stdout.write(" + JSON.stringify(JSON.stringify(credential)) + ")"] } } }],
        contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      });
      const { KubeClient } = require(${JSON.stringify(DIST_CLIENT)});
      const client = await KubeClient.load({ kubeconfig });
      const res = await client.get("/version");
      client.close();
      server.close();
      return res.body;`);
    expect(loaded.result).toEqual({ auth: "Bearer exec-token-7f3a" });
    expect(generatedApi(loaded.resolved)).toEqual([]);
  });
});
