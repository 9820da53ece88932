import { REDACTED, kubeconfigSecrets, redactKubeconfig } from "../../provider/kube/redact";

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev
    cluster:
      server: https://dev.example.com:6443
      certificate-authority-data: Q0EtREFUQS1mYWtlLTEyMzQ1Njc4
contexts:
  - name: dev
    context: { cluster: dev, user: dev-admin }
users:
  - name: dev-admin
    user:
      token: fake-token-abcdefgh
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: aws
        args: ["eks", "get-token", "--cluster-name", "prod-eu-west-1"]
        env: [{ name: AWS_SECRET, value: s3cr3t-value-42 }]
        interactiveMode: Never
`;

describe("kubeconfig redaction", () => {
  const secrets = kubeconfigSecrets(KUBECONFIG);

  test("collects every value under users and the clusters' *-data, longest first", () => {
    expect(secrets).toEqual(
      expect.arrayContaining([
        "fake-token-abcdefgh",
        "s3cr3t-value-42",
        "Q0EtREFUQS1mYWtlLTEyMzQ1Njc4",
        "get-token",
        "prod-eu-west-1",
        "dev-admin",
      ]),
    );
    // Addresses a person needs stay readable; words too short to be secrets are kept. (Everything
    // under users goes, even an exec env variable name: cheaper than deciding what is harmless.)
    for (const kept of ["https://dev.example.com:6443", "dev", "aws", "Never", "eks"]) {
      expect(secrets).not.toContain(kept);
    }
    const lengths = secrets.map((s) => s.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
  });

  test("replaces each occurrence, and leaves other text alone", () => {
    const message =
      "exec plugin failed: AWS_SECRET=s3cr3t-value-42 token fake-token-abcdefgh (twice: s3cr3t-value-42) at https://dev.example.com:6443";
    expect(redactKubeconfig(message, secrets)).toBe(
      `exec plugin failed: ${REDACTED}=${REDACTED} token ${REDACTED} (twice: ${REDACTED}) at https://dev.example.com:6443`,
    );
  });

  test("text that does not parse yields nothing to redact", () => {
    expect(kubeconfigSecrets("{ not: yaml: [")).toEqual([]);
    expect(kubeconfigSecrets("")).toEqual([]);
    expect(kubeconfigSecrets("just a string")).toEqual([]);
  });
});
