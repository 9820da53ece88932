import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { EnforceSection } from "../../local/platform-services";
import { pulumiCliEnv } from "../../local/toolchain/pulumi-env";
import type { PlatformClient } from "../../provider/platform";
import { emulatorClient, repoRoot, startOwnEnv, stopOwnEnv, type OwnEnv } from "../support/env";
import { at } from "../support/fixture";
import {
  consumerEnv,
  dependencyClosure,
  installConsumer,
  listedCopies,
  locationsOf,
  newestVersion,
  packRepository,
  withInstallScripts,
  type Consumer,
  type Packed,
} from "../support/package-consumer";
import { TEST_PASSPHRASE } from "../support/pulumi";

/**
 * The package as a user gets it: `npm pack` of this repository, the tarball installed into fresh
 * projects (one on the oldest @pulumi/pulumi the peer range allows, one on the newest the
 * registry serves), and in each one connection's up, preview and destroy through the real
 * Pulumi CLI, run by a directory program that requires the installed copy. Sizes and install
 * times go to .tmp/package-report.json.
 */

const run = promisify(execFile);
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  peerDependencies: { "@pulumi/pulumi": string };
};
const PULUMI_RANGE = pkg.peerDependencies["@pulumi/pulumi"];
/** What only the local environment and its example use (better-sqlite3, @pulumi/kubernetes). */
const LOCAL_ONLY = Object.keys(
  (
    JSON.parse(fs.readFileSync(path.join(repoRoot, "local", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    }
  ).dependencies,
);
const PUBLISHED =
  /^(dist\/(sdk|provider)\/.+|manifests\/.+|bin\/pulumi-enforce\.js|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/;

describe("the published package", () => {
  let work: string;
  let packed: Packed;
  const consumers: Record<"oldest" | "newest", Consumer | undefined> = {
    oldest: undefined,
    newest: undefined,
  };
  const report: Record<string, unknown> = {};

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-enforce-package-"));
    packed = await packRepository(work);
    report.tarball = {
      size: packed.size,
      unpackedSize: packed.unpackedSize,
      files: packed.files.length,
    };
  }, 300_000);
  afterAll(() => {
    fs.mkdirSync(path.join(repoRoot, ".tmp"), { recursive: true });
    const file = path.join(repoRoot, ".tmp", "package-report.json");
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`package report (${file}):\n${JSON.stringify(report, null, 2)}`);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("the tarball holds the SDK, the provider, its manifests and the package documents only", () => {
    const forbidden = packed.files.filter(
      (f) =>
        /(^|\/)local\//.test(f) ||
        /\.go$|(^|\/)go\.(mod|sum)$/.test(f) ||
        /(^|\/)tests?\//.test(f) ||
        /\.test\.[jt]s$/.test(f) ||
        /^examples\//.test(f) ||
        /\.node$|(^|\/)binding\.gyp$/.test(f),
    );
    expect(forbidden).toEqual([]);
    expect(packed.files.filter((f) => !PUBLISHED.test(f))).toEqual([]);
    for (const required of [
      "package.json",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "bin/pulumi-enforce.js",
      "dist/sdk/index.js",
      "dist/sdk/index.d.ts",
      "dist/provider/impl.js",
      "dist/provider/cli/main.js",
      "manifests/public-issuer-discovery.yaml",
    ]) {
      expect(packed.files).toContain(required);
    }
  });

  test("every compiled file in the tarball comes from a source in the tree (no stale build output)", () => {
    const orphans = packed.files
      .filter((f) => f.startsWith("dist/"))
      .map((f) => f.replace(/^dist\//, "").replace(/(\.d\.ts|\.js|\.js\.map|\.d\.ts\.map)$/, ".ts"))
      .filter((source) => !fs.existsSync(path.join(repoRoot, source)));
    expect([...new Set(orphans)]).toEqual([]);
  });

  test("its manifest declares no install script and no bin of the local environment", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
      bin?: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    for (const hook of ["preinstall", "install", "postinstall"]) {
      expect(manifest.scripts?.[hook]).toBeUndefined();
    }
    expect(Object.keys(manifest.bin ?? {})).toEqual(["pulumi-enforce"]);
    expect(LOCAL_ONLY).toEqual(expect.arrayContaining(["better-sqlite3", "@pulumi/kubernetes"]));
    expect(Object.keys(manifest.dependencies ?? {}).filter((d) => LOCAL_ONLY.includes(d))).toEqual(
      [],
    );
  });

  describe.each([
    ["oldest", () => PULUMI_RANGE.replace(/^\^/, "")],
    ["newest", () => newestVersion("@pulumi/pulumi", PULUMI_RANGE)],
  ] as const)("installed next to the %s @pulumi/pulumi the peer range allows", (which, version) => {
    test("compiles nothing, adds nothing of the local environment, and leaves one @pulumi/pulumi", async () => {
      expect(PULUMI_RANGE).toMatch(/^\^3\.\d+\.\d+$/);
      const pulumiVersion = await version();
      const consumer = await installConsumer(
        path.join(work, `consumer-${which}`),
        packed.tarball,
        pulumiVersion,
      );
      consumers[which] = consumer;
      const ours = dependencyClosure(consumer.lock, "node_modules/pulumi-enforce");
      report[`install next to @pulumi/pulumi ${pulumiVersion}`] = {
        seconds: Math.round(consumer.installSeconds * 10) / 10,
        packages: Object.keys(consumer.lock).length - 1,
        broughtByPulumiEnforce: ours.length - 1,
        withInstallScripts: withInstallScripts(consumer.lock),
      };

      // Nothing pulumi-enforce brings runs a script or builds a native module. (@pulumi/pulumi,
      // the user's own dependency, brings protobufjs with a postinstall; that is not ours.)
      expect(ours.filter((location) => consumer.lock[location]?.hasInstallScript)).toEqual([]);
      expect(ours.filter((location) => location.endsWith("/@pulumi/pulumi"))).toEqual([]);
      for (const name of LOCAL_ONLY) {
        expect(locationsOf(consumer.lock, name)).toEqual([]);
        expect(fs.existsSync(path.join(consumer.dir, "node_modules", name))).toBe(false);
      }
      // The user's @pulumi/pulumi is the only one: what the program and the provider both load.
      expect(locationsOf(consumer.lock, "@pulumi/pulumi")).toEqual(["node_modules/@pulumi/pulumi"]);
      expect(await listedCopies(consumer.dir, "@pulumi/pulumi")).toEqual([
        `${pulumiVersion} node_modules/@pulumi/pulumi`,
      ]);
    }, 900_000);
  });

  describe("a directory program requiring the installed copy, through the Pulumi CLI", () => {
    let env: OwnEnv;
    let platform: PlatformClient;

    beforeAll(async () => {
      env = await startOwnEnv(["--clusters", "1"]);
      platform = emulatorClient(env.ready);
    }, 300_000);
    afterAll(async () => {
      // A stack a failed test left behind goes down with the environment.
      await platform?.close();
      await stopOwnEnv(env);
    });

    test.each(["oldest", "newest"] as const)(
      "with the %s @pulumi/pulumi: up connects the cluster, a second preview has nothing to do, destroy leaves nothing",
      async (which) => {
        const consumer = consumers[which];
        if (!consumer) throw new Error(`the ${which} consumer was not installed (see above)`);
        const enforce = env.ready.enforce as EnforceSection;
        const cli = pulumiCli(consumer.dir, env, path.join(work, `pulumi-${which}`));
        writeProgram(consumer.dir);
        await cli(["stack", "init", "test"], 60_000);
        await cli(["config", "set", "enforce:apiUrl", enforce.apiUrl], 60_000);
        await cli(["config", "set", "enforce:issuerUrl", enforce.issuerUrl], 60_000);
        await cli(["config", "set", "enforce:caFile", enforce.caFile], 60_000);
        await cli(["config", "set", "--secret", "enforce:token", enforce.token], 60_000);
        await cli(
          ["config", "set", "kubeconfigPath", at(env.ready.clusters, 0).kubeconfig],
          60_000,
        );
        await cli(["config", "set", "group", enforce.group], 60_000);

        const started = Date.now();
        await cli(["up", "--yes", "--skip-preview"]);
        const outputs = JSON.parse(await cli(["stack", "output", "--json"], 60_000)) as Record<
          string,
          string
        >;
        expect(outputs.connectivity).toBe("private");
        expect(outputs.clusterId).toMatch(/^[0-9a-f]{40}\/[0-9a-f]{16}$/);
        expect(
          (await platform.listClusters({ descendantsOf: enforce.group })).map((c) => c.id),
        ).toEqual([outputs.clusterId]);
        // The provider that ran is the user's installed copy, not this repository's.
        const state = await cli(["stack", "export"], 60_000);
        const installed = path.join(consumer.dir, "node_modules", "pulumi-enforce");
        expect(state).toContain(path.join(installed, "dist", "provider", "impl.js"));
        expect(state).not.toContain(path.join(repoRoot, "dist", "provider", "impl.js"));

        await cli(["preview", "--expect-no-changes", "--diff"]);
        await cli(["destroy", "--yes", "--skip-preview"]);
        expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
        expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
        report[`up, preview, destroy with @pulumi/pulumi ${consumer.pulumiVersion}`] = {
          seconds: Math.round((Date.now() - started) / 1000),
        };
      },
      900_000,
    );
  });
});

/**
 * Runs the environment's Pulumi CLI in a project folder, with state, PULUMI_HOME and passphrase
 * under `base`, and nothing from this repository on PATH or NODE_PATH: the language host and
 * the dynamic-provider plugin sit beside the CLI, and the plugin loads the project's own
 * @pulumi/pulumi.
 */
function pulumiCli(
  dir: string,
  env: OwnEnv,
  base: string,
): (args: string[], timeoutMs?: number) => Promise<string> {
  const [home, backend] = [path.join(base, "home"), path.join(base, "state")];
  for (const d of [home, backend]) fs.mkdirSync(d, { recursive: true });
  const cliEnv = consumerEnv(
    pulumiCliEnv({
      backendDir: backend,
      home,
      passphrase: TEST_PASSPHRASE,
      path: [path.dirname(env.ready.tools.pulumi)],
    }),
  );
  return async (args, timeoutMs = 5 * 60_000) => {
    const { stdout } = await run(env.ready.tools.pulumi, [...args, "--non-interactive"], {
      cwd: dir,
      env: cliEnv,
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: 64 << 20,
    });
    return stdout;
  };
}

/** A JavaScript Pulumi program as `pulumi new javascript` lays it out, using the installed package. */
function writeProgram(dir: string): void {
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    [
      "name: package-consumer",
      "runtime:",
      "  name: nodejs",
      "  options:",
      "    typescript: false",
      "main: index.js",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(dir, "index.js"),
    [
      '"use strict";',
      'const fs = require("node:fs");',
      'const pulumi = require("@pulumi/pulumi");',
      'const { EnforceClusterConnection } = require("pulumi-enforce");',
      "",
      "const config = new pulumi.Config();",
      'const connection = new EnforceClusterConnection("cluster", {',
      '  kubeconfig: pulumi.secret(fs.readFileSync(config.require("kubeconfigPath"), "utf8")),',
      '  group: config.require("group"),',
      '  registrationTimeout: "2m",',
      "});",
      "exports.clusterId = connection.clusterId;",
      "exports.connectivity = connection.connectivity;",
      "",
    ].join("\n"),
  );
}
