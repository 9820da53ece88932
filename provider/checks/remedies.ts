/**
 * The fixes a person can apply for each failed prerequisite, modelled on the
 * commands of the vendor's "Connect Kubernetes clusters" guide.
 */
export const REMEDY = {
  tokenProjection:
    "Enable service account token volume projection: start kube-apiserver with --service-account-issuer=<https URL>, " +
    "--service-account-key-file and --service-account-signing-key-file (EKS, GKE and AKS enable it by default). " +
    "Verify with a pod that mounts a projected serviceAccountToken volume: kubectl create -f pod.yaml must accept it.",
  issuerDiscovery:
    "Enable service account issuer discovery: set kube-apiserver's --service-account-issuer to an https URL " +
    "(discovery is served only for https issuers). Verify with: kubectl get --raw /.well-known/openid-configuration",
  publicBinding:
    "To make the issuer public, allow anonymous discovery: kubectl create clusterrolebinding public-issuer-discovery " +
    "--clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated",
} as const;
