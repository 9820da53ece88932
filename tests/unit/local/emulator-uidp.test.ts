import { createPublicKey } from "node:crypto";
import { keyIdOf } from "../../../local/emulator/issuer/signing-key";
import { formatTimestamp, parseDuration, parseTimestamp } from "../../../local/emulator/http/time";
import {
  isChildOf,
  isDescendantOf,
  isRoot,
  isSameOrDescendantOf,
  isUidp,
  newChildUidp,
  newRootUidp,
  parentOf,
} from "../../../local/emulator/uidp";

describe("UIDPs", () => {
  const root = newRootUidp();
  const child = newChildUidp(root);
  const grandchild = newChildUidp(child);

  it("makes roots of 40 hex digits and children of one more 16-hex segment", () => {
    expect(root).toMatch(/^[0-9a-f]{40}$/);
    expect(child).toMatch(new RegExp(`^${root}/[0-9a-f]{16}$`));
    expect(newRootUidp()).not.toBe(root);
    expect(isRoot(root)).toBe(true);
    expect(isRoot(child)).toBe(false);
  });

  it("recognises well-formed ids only", () => {
    expect(isUidp(root)).toBe(true);
    expect(isUidp(grandchild)).toBe(true);
    for (const bad of [
      "",
      "abc",
      `${root}/`,
      `${root}/xyz`,
      root.toUpperCase(),
      `${root}/${"0".repeat(15)}`,
      42,
    ]) {
      expect(isUidp(bad)).toBe(false);
    }
  });

  it("relates parents, children and descendants", () => {
    expect(parentOf(grandchild)).toBe(child);
    expect(parentOf(root)).toBeUndefined();
    expect(isChildOf(child, root)).toBe(true);
    expect(isChildOf(grandchild, root)).toBe(false);
    expect(isDescendantOf(grandchild, root)).toBe(true);
    expect(isDescendantOf(root, root)).toBe(false);
    expect(isSameOrDescendantOf(root, root)).toBe(true);
    const sibling = newChildUidp(root);
    expect(isDescendantOf(grandchild, sibling)).toBe(false);
    // A prefix of the string is not an ancestor unless it ends at a segment boundary.
    expect(isDescendantOf(`${child}0`, child)).toBe(false);
  });

  it("refuses to make a child of a malformed parent", () => {
    expect(() => newChildUidp("nope")).toThrow(new TypeError('parent must be a UIDP, got "nope"'));
  });
});

describe("wire times", () => {
  it("formats RFC 3339 UTC without a zero fraction", () => {
    expect(formatTimestamp(Date.UTC(2031, 2, 1, 12, 0, 0))).toBe("2031-03-01T12:00:00Z");
    expect(formatTimestamp(Date.UTC(2031, 2, 1, 12, 0, 0, 250))).toBe("2031-03-01T12:00:00.250Z");
  });

  it("parses RFC 3339 and refuses other date formats", () => {
    expect(parseTimestamp("2031-03-01T12:00:00Z")).toBe(Date.UTC(2031, 2, 1, 12));
    expect(parseTimestamp("2031-03-01T14:00:00+02:00")).toBe(Date.UTC(2031, 2, 1, 12));
    expect(parseTimestamp("2031-03-01")).toBeUndefined();
    expect(parseTimestamp("March 1, 2031")).toBeUndefined();
  });

  it("parses grpc-gateway durations", () => {
    expect(parseDuration("600s")).toBe(600_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("0s")).toBe(0);
    for (const bad of ["600", "10m", "-5s", "s", "1.2.3s"])
      expect(parseDuration(bad)).toBeUndefined();
  });
});

describe("key ids", () => {
  it("matches the kid Kubernetes' own tests pin for a fixed RSA key", () => {
    // pkg/serviceaccount's test vector: base64url(SHA-256(PKIX DER)).
    const pem = [
      "-----BEGIN PUBLIC KEY-----",
      "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA249XwEo9k4tM8fMxV7zx",
      "OhcrP+WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt+ecI",
      "zshKuv1gKIxbbLQMOuK1eA/4HALyEkFgmS/tleLJrhc65tKPMGD+pKQ/xhmzRuCG",
      "51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJU",
      "j7OTh/AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv+OrN80j6xrw0OjEi",
      "B4Ycr0PqfzZcvy8efTtFQ/Jnc4Bp1zUtFXt7+QeevePtQ2EcyELXE0i63T1CujRM",
      "WwIDAQAB",
      "-----END PUBLIC KEY-----",
    ].join("\n");
    expect(keyIdOf(createPublicKey(pem))).toBe("JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU");
  });
});
