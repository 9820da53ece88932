import { IMAGE_REFERENCE_FORM, parseImageReference } from "../../provider/inputs/image-ref";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("parseImageReference", () => {
  test.each([
    [
      "registry.example.com/enforce/controlplane",
      { registry: "registry.example.com", repository: "enforce/controlplane" },
    ],
    [
      "registry.example.com/controlplane:v0.1.255",
      { registry: "registry.example.com", repository: "controlplane", tag: "v0.1.255" },
    ],
    [
      `localhost:5000/enforce/chainctl@${DIGEST}`,
      { registry: "localhost:5000", repository: "enforce/chainctl", digest: DIGEST },
    ],
    [
      `localhost/a/b/c:latest@${DIGEST}`,
      { registry: "localhost", repository: "a/b/c", tag: "latest", digest: DIGEST },
    ],
    [
      "10.0.0.1:5000/my_org/my-image__x.y:1.0-rc_1",
      { registry: "10.0.0.1:5000", repository: "my_org/my-image__x.y", tag: "1.0-rc_1" },
    ],
  ])("accepts %s", (text, parts) => {
    expect(parseImageReference(text)).toEqual({ ok: true, ...parts });
  });

  test.each([
    ["", "the reference is empty"],
    ["registry.example.com/a b", "contains whitespace"],
    ["nginx:latest", '"nginx" does not start with a registry host'],
    ["library/nginx", '"library/nginx" does not start with a registry host'],
    [
      "registry.example.com/Enforce/controlplane",
      'the repository component "Enforce" is not valid',
    ],
    ["registry.example.com/enforce//controlplane", 'the repository component "" is not valid'],
    ["registry.example.com/controlplane:-bad", 'the tag "-bad" is not valid'],
    ["registry.example.com/controlplane@sha256:abc", 'the digest "sha256:abc"'],
    [
      `registry.example.com/controlplane@sha512:${"ab".repeat(64)}`,
      'is not "sha256:" followed by 64',
    ],
    [
      `registry.example.com/controlplane@${DIGEST.toUpperCase().replace("SHA", "sha")}`,
      "lowercase hex digits",
    ],
    [`registry.example.com/${"a".repeat(250)}`, "more than 255"],
  ])("rejects %j", (text, fragment) => {
    const result = parseImageReference(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(fragment);
    expect(result.reason.endsWith(IMAGE_REFERENCE_FORM)).toBe(true);
  });
});
