/** The Kubernetes release the local control plane runs (kube-apiserver, kube-controller-manager, kubectl). */
export const KUBERNETES_VERSION = "v1.36.3";
/** The Pulumi CLI release the tests and the demo drive. */
export const PULUMI_VERSION = "v3.274.1";
/** Oldest kube-apiserver a binary found on PATH or in KUBEBUILDER_ASSETS may be. */
export const MIN_KUBERNETES_MINOR = 36;
/**
 * The version the Kubernetes provider plugin reports, and so the plugin
 * version the @pulumi/kubernetes npm package in package.json asks the engine
 * for (its package.json `pulumi.version`): keep the two equal.
 */
export const PULUMI_KUBERNETES_VERSION = "4.34.2";
/**
 * The provider's Go module. The version its code is built from is pinned in
 * `local/toolchain/kubernetes/go.mod`: the module proxy serves one
 * pseudo-version only (a commit of 2026-01-15, older than the 4.34.2 release),
 * so the plugin runs that code under the version above.
 */
export const PULUMI_KUBERNETES_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4";
