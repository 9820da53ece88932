import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../util/package-root";
import { cacheRoot, moduleKey, withLock } from "./cache";
import { goBuild } from "./go-build";
import { KUBERNETES_VERSION, MIN_KUBERNETES_MINOR, PULUMI_VERSION } from "./versions";

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

/**
 * Returns the toolchain, building what is missing from the Go module proxy into
 * the cache outside the repository. Binaries found in KUBEBUILDER_ASSETS or on
 * PATH are used instead when they are recent enough.
 */
export async function ensureToolchain(opts: EnsureOptions = {}): Promise<Toolchain> {
  const env = opts.env ?? process.env;
  const progress = opts.progress ?? (() => undefined);
  const root = packageRoot();

  // kube-apiserver, kubectl and etcd may come from KUBEBUILDER_ASSETS or PATH
  // (as envtest users have them); kube-controller-manager and pki are ours.
  const reused = findReusableKube(env);
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
    progress(`Using kube-apiserver, kubectl and etcd from ${reused}.`);
  }
  const kubeDir = await ensureModule({
    moduleDir: path.join(root, "local/toolchain/kube"),
    version: KUBERNETES_VERSION + (reused ? "-partial" : ""),
    binaries: kubeTools.map(([b]) => b),
    packages: kubeTools.map(([, p]) => p),
    ldflags: KUBE_LDFLAGS,
    label: `Kubernetes ${KUBERNETES_VERSION} (${kubeTools.map(([b]) => b).join(", ")})`,
    estimate: reused ? "about 8 minutes on 2 cores" : "about 10-15 minutes on 2 cores",
    env,
    progress,
  });
  const from = (bin: string) => path.join(reused ?? kubeDir, bin);
  const pulumiDir = await ensureModule({
    moduleDir: path.join(root, "local/toolchain/pulumi"),
    version: PULUMI_VERSION,
    // bin/pulumi: the layout the automation API's PulumiCommand.get({ root }) expects.
    binaries: ["bin/pulumi"],
    packages: ["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"],
    outSubdir: "bin",
    ldflags: PULUMI_LDFLAGS,
    label: `the Pulumi CLI ${PULUMI_VERSION}`,
    estimate: "about 8-12 minutes on 2 cores",
    env,
    progress,
  });
  const pluginDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [root] }));
  return {
    kubeApiserver: from("kube-apiserver"),
    kubeControllerManager: path.join(kubeDir, "kube-controller-manager"),
    kubectl: from("kubectl"),
    etcd: from("etcd"),
    pki: path.join(kubeDir, "pki"),
    pulumi: path.join(pulumiDir, "bin", "pulumi"),
    pulumiNodejsPluginDir: pluginDir,
  };
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
}

async function ensureModule(spec: ModuleSpec): Promise<string> {
  const dir = path.join(cacheRoot(spec.env), "toolchain", moduleKey(spec.moduleDir, spec.version));
  const complete = () => spec.binaries.every((b) => fs.existsSync(path.join(dir, b)));
  if (complete()) return dir;
  return withLock(dir, async () => {
    if (complete()) return dir;
    const tmp = `${dir}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(spec.outSubdir ? path.join(tmp, spec.outSubdir) : tmp, { recursive: true });
    spec.progress(`Building ${spec.label} from the Go module proxy, once: ${spec.estimate}.`);
    spec.progress(`  cache: ${dir}`);
    const started = Date.now();
    await goBuild({
      moduleDir: spec.moduleDir,
      packages: spec.packages,
      outDir: spec.outSubdir ? path.join(tmp, spec.outSubdir) : tmp,
      ldflags: spec.ldflags,
      progress: spec.progress,
      env: spec.env,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    spec.progress(`  built in ${Math.round((Date.now() - started) / 1000)}s`);
    return dir;
  });
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
