import { X509Certificate } from "node:crypto";
import { makeCertificate } from "../support/test-pki";

/**
 * The tests' own certificates (tests/support/test-pki.ts) are valid DER every time: a random
 * serial number whose first byte came out 0 once made a TLS test fail ("illegal padding").
 */
test("512 certificates in a row all parse", () => {
  for (let i = 0; i < 512; i++) {
    const { cert } = makeCertificate({ cn: `test-${i}` });
    expect(() => new X509Certificate(cert)).not.toThrow();
  }
});
