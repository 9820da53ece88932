import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../package-root";
import { cacheRoot, moduleFiles, moduleKey, withLock } from "./cache";
import { goBuild, GoBuildError, goOutput } from "./go-build";
import {
  KUBERNETES_VERSION,
  MIN_KUBERNETES_MINOR,
  PULUMI_KUBERNETES_MODULE,
  PULUMI_KUBERNETES_VERSION,
  PULUMI_VERSION,
} from "./versions";

/** Absolute paths of every binary the local environment runs. */
export interface Toolchain {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  etcd: string;
  pki: string;
  pulumi: string;
  /** Directory holding `pulumi-resource-pulumi-nodejs`, which the CLI must find on PATH. */
  pulumiNodejsPluginDir: string;
  /**
   * The Node.js language host (local/toolchain/language-nodejs), placed next
   * to `pulumi`, where the CLI looks for it as a bundled plugin. Directory
   * programs (`pulumi up` in a folder whose Pulumi.yaml says `runtime:
   * nodejs`) need it; inline automation-API programs do not.
   */
  pulumiLanguageNodejs: string;
  /** The Kubernetes provider plugin, `pulumi-resource-kubernetes`. */
  pulumiKubernetesPlugin: string;
  /** The version that plugin reports: the one @pulumi/kubernetes asks the engine for. */
  pulumiKubernetesVersion: string;
  /**
   * Directories to put in front of PATH: the CLI's own, where the language host and the
   * dynamic-provider plugin sit beside it as bundled plugins (no "using ... from $PATH"
   * warning). The Kubernetes plugin goes into a PULUMI_HOME with {@link installPulumiPlugins}.
   * Set PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION too, so nothing is downloaded.
   */
  pulumiPluginPath: string[];
}

export interface EnsureOptions {
  progress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const KUBE_LDFLAGS = [
  "-s -w",
  `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
  `-X k8s.io/component-base/version.gitMajor=1`,
  `-X k8s.io/component-base/version.gitMinor=${KUBERNETES_VERSION.split(".")[1]}`,
  `-X k8s.io/component-base/version.gitTreeState=clean`,
  `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
].join(" ");

const PULUMI_LDFLAGS = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}`;

const LANGUAGE_NODEJS_LDFLAGS = `-s -w -X main.version=${PULUMI_VERSION}`;

const KUBERNETES_PLUGIN_LDFLAGS = `-s -w -X ${PULUMI_KUBERNETES_MODULE}/pkg/version.Version=${PULUMI_KUBERNETES_VERSION}`;

/**
 * Returns the toolchain, building what is missing from the Go module proxy into
 * the cache outside the repository. Binaries found in KUBEBUILDER_ASSETS or on
 * PATH are used instead when they are recent enough.
 */
export async function ensureToolchain(opts: EnsureOptions = {}): Promise<Toolchain> {
  const build: BuildContext = {
    root: packageRoot(),
    env: opts.env ?? process.env,
    progress: opts.progress ?? (() => undefined),
  };
  const kube = await ensureKube(build);
  const pulumi = await ensurePulumi(build);
  const kubernetesPlugin = await ensureKubernetesPlugin(build);
  const pluginDir = placeDynamicProviderPlugin(build.root, pulumi.binDir);
  return {
    ...kube,
    pulumi: path.join(pulumi.binDir, "pulumi"),
    pulumiNodejsPluginDir: pluginDir,
    pulumiLanguageNodejs: pulumi.languageHost,
    pulumiKubernetesPlugin: kubernetesPlugin,
    pulumiKubernetesVersion: PULUMI_KUBERNETES_VERSION,
    pulumiPluginPath: [pulumi.binDir],
  };
}

/** What every module build of one {@link ensureToolchain} call shares. */
interface BuildContext {
  root: string;
  env: NodeJS.ProcessEnv;
  progress: (line: string) => void;
}

/**
 * The Kubernetes binaries. kube-apiserver, kubectl and etcd may come from KUBEBUILDER_ASSETS or
 * PATH (as envtest users have them); kube-controller-manager and pki are ours.
 */
async function ensureKube(
  build: BuildContext,
): Promise<
  Pick<Toolchain, "kubeApiserver" | "kubeControllerManager" | "kubectl" | "etcd" | "pki">
> {
  const reused = findReusableKube(build.env);
  const kubeTools: Array<[string, string]> = [
    ["kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"],
    ["pki", "./pki"],
  ];
  if (!reused) {
    kubeTools.unshift(
      ["kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"],
      ["kubectl", "k8s.io/kubernetes/cmd/kubectl"],
      ["etcd", "./etcd"],
    );
  } else {
    build.progress(`Using kube-apiserver, kubectl and etcd from ${reused}.`);
  }
  const kubeDir = await ensureModule({
    moduleDir: path.join(build.root, "local/toolchain/kube"),
    version: KUBERNETES_VERSION + (reused ? "-partial" : ""),
    binaries: kubeTools.map(([b]) => b),
    packages: kubeTools.map(([, p]) => p),
    ldflags: KUBE_LDFLAGS,
    label: `Kubernetes ${KUBERNETES_VERSION} (${kubeTools.map(([b]) => b).join(", ")})`,
    estimate: reused ? "about 8 minutes on 2 cores" : "about 10-15 minutes on 2 cores",
    env: build.env,
    progress: build.progress,
  });
  const from = (bin: string) => path.join(reused ?? kubeDir, bin);
  return {
    kubeApiserver: from("kube-apiserver"),
    kubeControllerManager: path.join(kubeDir, "kube-controller-manager"),
    kubectl: from("kubectl"),
    etcd: from("etcd"),
    pki: path.join(kubeDir, "pki"),
  };
}

/** The Pulumi CLI and, beside it as a bundled plugin, the Node.js language host. */
async function ensurePulumi(
  build: BuildContext,
): Promise<{ binDir: string; languageHost: string }> {
  const pulumiDir = await ensureModule({
    moduleDir: path.join(build.root, "local/toolchain/pulumi"),
    version: PULUMI_VERSION,
    // bin/pulumi: the layout the automation API's PulumiCommand.get({ root }) expects.
    binaries: ["bin/pulumi"],
    packages: ["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"],
    outSubdir: "bin",
    ldflags: PULUMI_LDFLAGS,
    label: `the Pulumi CLI ${PULUMI_VERSION}`,
    estimate: "about 8-12 minutes on 2 cores",
    env: build.env,
    progress: build.progress,
  });
  // The language host speaks the protocol of the CLI's SDK version and shares
  // most of its Go packages with the CLI, so it builds in a minute or two.
  const languageDir = await ensureModule({
    moduleDir: path.join(build.root, "local/toolchain/language-nodejs"),
    version: PULUMI_VERSION,
    binaries: ["pulumi-language-nodejs"],
    packages: ["./pulumi-language-nodejs"],
    ldflags: LANGUAGE_NODEJS_LDFLAGS,
    label: `the Pulumi Node.js language host (${PULUMI_VERSION} protocol)`,
    estimate: "about 1-3 minutes on 2 cores",
    env: build.env,
    progress: build.progress,
  });
  // Beside the CLI it is a bundled plugin: found without PATH, and without
  // the "using ... from $PATH" warning when that directory is on PATH too.
  const binDir = path.join(pulumiDir, "bin");
  const languageHost = path.join(binDir, "pulumi-language-nodejs");
  placeBeside(path.join(languageDir, "pulumi-language-nodejs"), languageHost);
  return { binDir, languageHost };
}

/** The Kubernetes provider plugin; notes when @pulumi/kubernetes asks for another version. */
async function ensureKubernetesPlugin(build: BuildContext): Promise<string> {
  const kubernetesDir = await ensureModule({
    moduleDir: path.join(build.root, "local/toolchain/kubernetes"),
    version: `v${PULUMI_KUBERNETES_VERSION}`,
    binaries: ["pulumi-resource-kubernetes"],
    packages: ["./pulumi-resource-kubernetes"],
    ldflags: KUBERNETES_PLUGIN_LDFLAGS,
    label: `the Pulumi Kubernetes provider plugin (reporting ${PULUMI_KUBERNETES_VERSION})`,
    estimate: "about 15-20 minutes on 2 cores",
    stage: stageKubernetesSchema,
    env: build.env,
    progress: build.progress,
  });
  const requested = kubernetesSdkPluginVersion(build.root);
  if (requested && requested !== PULUMI_KUBERNETES_VERSION)
    build.progress(
      `Note: @pulumi/kubernetes asks for plugin version ${requested}, the toolchain's plugin reports ` +
        `${PULUMI_KUBERNETES_VERSION} (local/toolchain/versions.ts): set the two equal.`,
    );
  return path.join(kubernetesDir, "pulumi-resource-kubernetes");
}

/**
 * The dynamic-provider plugin is a shell script of @pulumi/pulumi that finds the SDK from the
 * program's directory; beside the CLI, as in Pulumi's own releases, it is a bundled plugin too.
 * Returns @pulumi/pulumi's folder.
 */
function placeDynamicProviderPlugin(root: string, pulumiBinDir: string): string {
  const pluginDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [root] }));
  placeBeside(
    path.join(pluginDir, "pulumi-resource-pulumi-nodejs"),
    path.join(pulumiBinDir, "pulumi-resource-pulumi-nodejs"),
  );
  return pluginDir;
}

/**
 * Puts the Kubernetes provider plugin into the plugin cache of a PULUMI_HOME
 * (`plugins/resource-kubernetes-v<version>/`, a symlink to the built binary),
 * where the CLI finds it by version without PATH and without the "using
 * pulumi-resource-kubernetes from $PATH" warning. Returns the plugin's folder.
 */
export function installPulumiPlugins(tools: Toolchain, pulumiHome: string): string {
  const dir = path.join(
    pulumiHome,
    "plugins",
    `resource-kubernetes-v${tools.pulumiKubernetesVersion}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, "pulumi-resource-kubernetes");
  let current: string | undefined;
  try {
    current = fs.readlinkSync(link);
  } catch {
    // missing, or not a link: replaced below
  }
  if (current !== tools.pulumiKubernetesPlugin) {
    const tmp = `${link}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(tools.pulumiKubernetesPlugin, tmp);
    fs.renameSync(tmp, link);
  }
  return dir;
}

interface ModuleSpec {
  moduleDir: string;
  version: string;
  binaries: string[];
  packages: string[];
  ldflags: string;
  label: string;
  estimate: string;
  env: NodeJS.ProcessEnv;
  progress: (line: string) => void;
  /** Where under the cache entry the binaries go (default: its top). */
  outSubdir?: string;
  /**
   * Builds from a copy of the module folder instead, after this adds the
   * generated files it needs (the copy is removed afterwards).
   */
  stage?: (stagingDir: string, env: NodeJS.ProcessEnv) => Promise<void>;
}

async function ensureModule(spec: ModuleSpec): Promise<string> {
  const dir = path.join(cacheRoot(spec.env), "toolchain", moduleKey(spec.moduleDir, spec.version));
  const complete = () => spec.binaries.every((b) => fs.existsSync(path.join(dir, b)));
  if (complete()) return dir;
  const onWait = (holder: number | undefined) =>
    spec.progress(
      `Waiting for another process${holder ? ` (pid ${holder})` : ""} that is building ${spec.label}...`,
    );
  return withLock(
    dir,
    async () => {
      if (complete()) return dir;
      const tmp = `${dir}.partial`;
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.mkdirSync(spec.outSubdir ? path.join(tmp, spec.outSubdir) : tmp, { recursive: true });
      spec.progress(`Building ${spec.label} from the Go module proxy, once: ${spec.estimate}.`);
      spec.progress(`  cache: ${dir}`);
      const started = Date.now();
      const staging = `${dir}.src`;
      try {
        let buildDir = spec.moduleDir;
        if (spec.stage) {
          fs.rmSync(staging, { recursive: true, force: true });
          for (const file of moduleFiles(spec.moduleDir)) {
            const to = path.join(staging, path.relative(spec.moduleDir, file));
            fs.mkdirSync(path.dirname(to), { recursive: true });
            fs.copyFileSync(file, to);
          }
          await spec.stage(staging, spec.env);
          buildDir = staging;
        }
        await goBuild({
          moduleDir: buildDir,
          packages: spec.packages,
          outDir: spec.outSubdir ? path.join(tmp, spec.outSubdir) : tmp,
          ldflags: spec.ldflags,
          progress: spec.progress,
          env: spec.env,
        });
      } finally {
        fs.rmSync(staging, { recursive: true, force: true });
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
      spec.progress(`  built in ${Math.round((Date.now() - started) / 1000)}s`);
      return dir;
    },
    undefined,
    onWait,
  );
}

/**
 * Writes the two files the Kubernetes plugin's main package embeds, as the
 * provider's release build generates them: the module's schema.json with its
 * version set, and its terraform-mapping.json, both compacted.
 */
async function stageKubernetesSchema(stagingDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const version = (
    await goOutput(["list", "-m", "-f", "{{.Version}}", PULUMI_KUBERNETES_MODULE], stagingDir, env)
  ).trim();
  const download = JSON.parse(
    await goOutput(
      ["mod", "download", "-json", `${PULUMI_KUBERNETES_MODULE}@${version}`],
      stagingDir,
      env,
    ),
  ) as { Dir?: string; Error?: string };
  if (!download.Dir)
    throw new GoBuildError(
      `could not download ${PULUMI_KUBERNETES_MODULE}@${version}: ${download.Error ?? "no directory"}`,
      download.Error ?? "",
    );
  const from = path.join(download.Dir, "cmd", "pulumi-resource-kubernetes");
  const to = path.join(stagingDir, "pulumi-resource-kubernetes");
  const schema = JSON.parse(fs.readFileSync(path.join(from, "schema.json"), "utf8")) as Record<
    string,
    unknown
  >;
  schema.version = PULUMI_KUBERNETES_VERSION;
  fs.writeFileSync(path.join(to, "schema-embed.json"), JSON.stringify(schema));
  const mapping = JSON.parse(
    fs.readFileSync(path.join(from, "terraform-mapping.json"), "utf8"),
  ) as unknown;
  fs.writeFileSync(path.join(to, "terraform-mapping-embed.json"), JSON.stringify(mapping));
}

/** The plugin version the installed @pulumi/kubernetes asks for, if it is installed. */
function kubernetesSdkPluginVersion(root: string): string | undefined {
  try {
    const file = require.resolve("@pulumi/kubernetes/package.json", { paths: [root] });
    const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as {
      version?: string;
      pulumi?: { version?: string };
    };
    return (pkg.pulumi?.version ?? pkg.version)?.replace(/^v/, "");
  } catch {
    return undefined;
  }
}

/**
 * Puts `src` at `dest` (a hard link, else a copy) unless `dest` already is
 * the same file. The rename makes the swap atomic for a CLI starting meanwhile.
 */
function placeBeside(src: string, dest: string): void {
  if (fs.existsSync(dest)) {
    const a = fs.statSync(src);
    const b = fs.statSync(dest);
    if (a.dev === b.dev && a.ino === b.ino) return;
    if (a.size === b.size && fs.readFileSync(src).equals(fs.readFileSync(dest))) return;
  }
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  try {
    fs.linkSync(src, tmp);
  } catch {
    fs.copyFileSync(src, tmp);
    fs.chmodSync(tmp, 0o755);
  }
  fs.renameSync(tmp, dest);
}

/**
 * A directory holding kube-apiserver 1.36 or newer together with kubectl and
 * etcd, from KUBEBUILDER_ASSETS or PATH.
 */
function findReusableKube(env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [env.KUBEBUILDER_ASSETS, ...(env.PATH ?? "").split(path.delimiter)].filter(
    (d): d is string => !!d,
  );
  for (const d of dirs) {
    const bin = path.join(d, "kube-apiserver");
    if (!["kube-apiserver", "kubectl", "etcd"].every((b) => fs.existsSync(path.join(d, b))))
      continue;
    try {
      const out = execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 10000 });
      const m = /v1\.(\d+)\./.exec(out);
      if (m && Number(m[1]) >= MIN_KUBERNETES_MINOR) return d;
    } catch {
      // not runnable here: ignore it and build our own
    }
  }
  return undefined;
}
