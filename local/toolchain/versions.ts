/** The Kubernetes release the local control plane runs (kube-apiserver, kube-controller-manager, kubectl). */
export const KUBERNETES_VERSION = "v1.36.3";
/** The Pulumi CLI release the tests and the demo drive. */
export const PULUMI_VERSION = "v3.274.1";
/** Oldest kube-apiserver a binary found on PATH or in KUBEBUILDER_ASSETS may be. */
export const MIN_KUBERNETES_MINOR = 36;
