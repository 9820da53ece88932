/** Checks an uploaded `static.issuerKeys`: a JWK Set of public signing keys, as a JSON string. */
import { invalidArgument } from "../http/errors";

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];
const KEY_TYPES = new Set(["RSA", "EC", "OKP"]);

/** Throws 400 unless `text` is a JSON JWK Set of public RSA/EC/OKP keys. */
export function checkIssuerKeys(text: string): void {
  const field = "static.issuerKeys";
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw invalidArgument(`${field} must be a JWK Set serialised as a JSON string`);
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (typeof jwks !== "object" || !Array.isArray(keys) || keys.length === 0) {
    throw invalidArgument(`${field} must be a JWK Set with at least one key ({"keys":[...]})`);
  }
  keys.forEach((key: unknown, i) => {
    if (typeof key !== "object" || key === null || Array.isArray(key)) {
      throw invalidArgument(`${field}: keys[${i}] is not a JSON object`);
    }
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kty !== "string" || !KEY_TYPES.has(jwk.kty)) {
      throw invalidArgument(`${field}: keys[${i}].kty must be one of RSA, EC, OKP`);
    }
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) {
      throw invalidArgument(
        `${field}: keys[${i}] contains private key material; upload only the public keys`,
      );
    }
    if (jwk.kid !== undefined && typeof jwk.kid !== "string") {
      throw invalidArgument(`${field}: keys[${i}].kid must be a string`);
    }
  });
}
