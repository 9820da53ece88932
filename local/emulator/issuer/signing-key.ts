/**
 * The emulator's own signing key (ES256), generated at first start and kept
 * in the database. It signs the tokens `/sts/exchange` mints and is published
 * in the emulator's JWKS.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { MetaRepo } from "../store/meta";

const META_KEY = "signing_key_pkcs8";
const ALG = "ES256";

/** A public JWK as published in a JWKS. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: "sig";
  [member: string]: unknown;
}

/** Claims and lifetime of a token to sign. */
export interface TokenToSign {
  issuer: string;
  subject: string;
  audience: string[];
  issuedAt: Date;
  lifetimeSeconds: number;
  claims?: Record<string, unknown>;
}

/**
 * The Kubernetes-style key id of a public key: base64url (no padding) of the
 * SHA-256 of its PKIX (SPKI, DER) encoding.
 */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: "der", type: "spki" });
  return createHash("sha256").update(der).digest("base64url");
}

/** The emulator's signing key. */
export class SigningKey {
  readonly kid: string;
  readonly alg = ALG;
  readonly publicJwk: PublicJwk;

  private constructor(private readonly privateKey: KeyObject) {
    const publicKey = createPublicKey(privateKey);
    this.kid = keyIdOf(publicKey);
    const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
    this.publicJwk = { ...jwk, kty: String(jwk.kty), kid: this.kid, alg: ALG, use: "sig" };
  }

  /** Loads the stored key, generating and storing one on first use. */
  static loadOrCreate(meta: MetaRepo): SigningKey {
    let pem = meta.get(META_KEY);
    if (pem === undefined) {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      meta.set(META_KEY, pem);
    }
    return new SigningKey(createPrivateKey(pem));
  }

  /** Signs a JWT with this key (header `alg` ES256, `kid`, `typ` JWT). */
  async sign(token: TokenToSign): Promise<string> {
    const { SignJWT } = await import("jose");
    const iat = Math.floor(token.issuedAt.getTime() / 1000);
    return new SignJWT({ ...token.claims })
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: "JWT" })
      .setIssuer(token.issuer)
      .setSubject(token.subject)
      .setAudience(token.audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + token.lifetimeSeconds)
      .sign(this.privateKey);
  }
}
