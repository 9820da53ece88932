import { REDACTED as KUBE_REDACTED, redactKubeconfig } from "../../provider/kube/redact";
import { REDACTED, redact } from "../../provider/util/redact";

describe("the one redactor", () => {
  test("replaces every occurrence of each secret with the one placeholder", () => {
    expect(redact("token abc12345 and abc12345 again", ["abc12345"])).toBe(
      `token ${REDACTED} and ${REDACTED} again`,
    );
    expect(REDACTED).toBe("[REDACTED]");
  });

  test("a secret containing another is replaced whole, whatever the order given", () => {
    expect(redact("code=invite-abcdefgh", ["abcdefgh", "invite-abcdefgh"])).toBe(
      `code=${REDACTED}`,
    );
  });

  test("empty secrets are ignored; any iterable will do", () => {
    expect(redact("nothing to hide", ["", ""])).toBe("nothing to hide");
    expect(redact("a s3cr3t-value", new Set(["s3cr3t-value"]))).toBe(`a ${REDACTED}`);
  });

  test("the kubeconfig redaction is the same redactor", () => {
    expect(KUBE_REDACTED).toBe(REDACTED);
    expect(redactKubeconfig).toBe(redact);
  });
});
