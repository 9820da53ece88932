import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of a PEM certificate and its key. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** Issues a self-signed CA with the toolchain's `pki` program. */
export async function issueCA(pki: string, out: CertFiles, cn: string): Promise<void> {
  await run(pki, ["ca", "--cert", out.cert, "--key", out.key, "--cn", cn]);
}

export interface CertRequest {
  cn: string;
  orgs?: string[];
  hosts?: string[];
  client?: boolean;
  server?: boolean;
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCert(
  pki: string,
  ca: CertFiles,
  out: CertFiles,
  req: CertRequest,
): Promise<void> {
  const args = [
    "cert",
    "--ca-cert",
    ca.cert,
    "--ca-key",
    ca.key,
    "--cert",
    out.cert,
    "--key",
    out.key,
    "--cn",
    req.cn,
  ];
  for (const o of req.orgs ?? []) args.push("--org", o);
  for (const h of req.hosts ?? []) args.push("--host", h);
  if (req.client) args.push("--client");
  if (req.server) args.push("--server");
  await run(pki, args);
}

/**
 * Writes a fresh RSA key pair for signing service-account tokens: the private
 * key (PKCS#8) and the public key (PKIX), the formats kube-apiserver reads.
 * Returns the key id Kubernetes derives from it.
 */
export function writeServiceAccountKey(privatePath: string, publicPath: string): string {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  fs.writeFileSync(privatePath, privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
  });
  fs.writeFileSync(publicPath, publicKey.export({ type: "spki", format: "pem" }));
  return keyId(publicKey);
}

/** The `kid` Kubernetes puts in tokens: base64url(SHA-256(PKIX DER of the public key)). */
function keyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return crypto.createHash("sha256").update(der).digest("base64url");
}
