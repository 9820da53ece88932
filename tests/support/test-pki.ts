/**
 * Throwaway X.509 certificates for TLS tests, made in-process: node:crypto makes the P-256
 * keys and the ECDSA signatures, and this module writes the few DER structures a certificate
 * needs. No openssl CLI and no Go toolchain (the local environment's `pki` program, which
 * local/control-plane/pki.ts runs), so the unit tier needs neither.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIPv4 } from "node:net";

/** A certificate and its private key, both PEM (the key PKCS#8, as `openssl req -nodes` writes). */
export interface TestCert {
  cert: string;
  key: string;
  /** The subject's common name: the issuer name of what this certificate signs. */
  cn: string;
  /** The private key, to sign other certificates with. */
  privateKey: KeyObject;
}

/** The key usages this module can set. */
export type KeyUsage = "digitalSignature" | "keyCertSign" | "cRLSign";

/** What goes into a certificate. */
export interface CertSpec {
  /** Subject common name. */
  cn: string;
  /** basicConstraints (critical): CA:TRUE, or CA:FALSE when false; left out when unset. */
  ca?: boolean;
  /** keyUsage (critical); left out when unset. */
  keyUsage?: KeyUsage[];
  /** extendedKeyUsage serverAuth. */
  serverAuth?: boolean;
  /** IPv4 addresses for subjectAltName. */
  ips?: string[];
  /** Valid from an hour ago for this many days (default 2). */
  days?: number;
}

/** Makes a certificate for `spec`, signed by `issuer`, or self-signed without one. */
export function makeCertificate(spec: CertSpec, issuer?: TestCert): TestCert {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const now = Date.now();
  const extensions: Buffer[] = [];
  if (spec.ca !== undefined) {
    extensions.push(extension(OID.basicConstraints, true, seq(spec.ca ? [BOOLEAN_TRUE] : [])));
  }
  if (spec.keyUsage) extensions.push(extension(OID.keyUsage, true, keyUsageBits(spec.keyUsage)));
  if (spec.serverAuth)
    extensions.push(extension(OID.extKeyUsage, false, seq([oid(OID.serverAuth)])));
  if (spec.ips?.length) {
    extensions.push(extension(OID.subjectAltName, false, seq(spec.ips.map(ipAddress))));
  }
  const serial = randomBytes(16);
  // A positive INTEGER in its shortest form: the first byte neither has its top bit set nor is
  // 0 (a leading zero byte before one below 0x80 is invalid DER, "illegal padding").
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = seq([
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version v3
    tlv(0x02, serial),
    seq([oid(OID.ecdsaWithSha256)]),
    name(issuer?.cn ?? spec.cn),
    seq([utcTime(new Date(now - 3600_000)), utcTime(new Date(now + (spec.days ?? 2) * 86400_000))]),
    name(spec.cn),
    publicKey.export({ type: "spki", format: "der" }),
    ...(extensions.length ? [tlv(0xa3, seq(extensions))] : []),
  ]);
  const signature = sign("sha256", tbs, issuer?.privateKey ?? privateKey); // DER ECDSA-Sig-Value
  const der = seq([tbs, seq([oid(OID.ecdsaWithSha256)]), bitString(signature)]);
  return {
    cert: pem("CERTIFICATE", der),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cn: spec.cn,
    privateKey,
  };
}

const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** One DER tag-length-value. */
function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

const seq = (items: Buffer[]) => tlv(0x30, Buffer.concat(items));

function oid(dotted: string): Buffer {
  // Every OID has at least two arcs.
  const [first, second, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const digits = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) digits.unshift((v & 0x7f) | 0x80);
    bytes.push(...digits);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const bitString = (bytes: Buffer, unusedBits = 0) =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));

/** A Name of one RDN: CN=`cn`, as a UTF8String. */
const name = (cn: string) =>
  seq([tlv(0x31, seq([oid(OID.commonName), tlv(0x0c, Buffer.from(cn, "utf8"))]))]);

/** UTCTime YYMMDDHHMMSSZ (dates before 2050). */
const utcTime = (d: Date) =>
  tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z", "ascii"));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq([oid(id), ...(critical ? [BOOLEAN_TRUE] : []), tlv(0x04, value)]);
}

/** keyUsage as a DER BIT STRING: bit 0 (the first) is digitalSignature, trailing zeros cut. */
function keyUsageBits(usages: KeyUsage[]): Buffer {
  const bit: Record<KeyUsage, number> = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };
  let byte = 0;
  for (const u of usages) byte |= 0x80 >> bit[u];
  let unused = 0;
  while (unused < 7 && !(byte & (1 << unused))) unused++;
  return bitString(Buffer.from([byte]), unused);
}

/** A GeneralName iPAddress ([7] IMPLICIT OCTET STRING). */
function ipAddress(ip: string): Buffer {
  if (!isIPv4(ip)) throw new Error(`test-pki: only IPv4 addresses are supported, not ${ip}`);
  return tlv(0x87, Buffer.from(ip.split(".").map(Number)));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
