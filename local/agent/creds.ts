/**
 * Reading Secret `gulfstream/mcp-creds` into what registration needs. Pure:
 * no I/O, so every rule is unit-testable. Reasons name the key at fault and
 * never quote a value that could be a credential.
 */
import { createHash } from "node:crypto";
import { parseUidp } from "../../provider/inputs/uidp";
import { SECRET } from "./names";

/** What the installer put into `mcp-creds`, decoded. */
export interface Creds {
  /** The invite code: a credential, never logged. */
  code: string;
  clusterName: string;
  clusterDescription: string;
  /** The static-key identity of a private cluster; absent for public clusters. */
  identityId?: string;
}

/** Outcome of {@link readCreds}. */
export type CredsResult = { ok: true; creds: Creds } | { ok: false; reason: string };

/**
 * Decodes and checks the Secret's `data` (base64 values, as the API returns
 * them): `code` and `cluster-name` must be present and non-empty,
 * `identity-uid` absent or a UIDP. An empty `identity-uid` counts as absent,
 * as the platform treats an empty `identityId`.
 */
export function readCreds(data: Record<string, string> | undefined): CredsResult {
  const text = (key: string): string | undefined => {
    const b64 = data?.[key];
    return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
  };
  const code = text("code");
  if (!code) return { ok: false, reason: `${SECRET} has no "code"` };
  const clusterName = text("cluster-name");
  if (!clusterName) return { ok: false, reason: `${SECRET} has no "cluster-name"` };
  const identityId = text("identity-uid") || undefined;
  if (identityId !== undefined) {
    const parsed = parseUidp(identityId);
    if (!parsed.ok) {
      // An identity id is not a credential, but say only why it is wrong.
      return { ok: false, reason: `${SECRET} "identity-uid" is not a UIDP: ${parsed.reason}` };
    }
  }
  return {
    ok: true,
    creds: {
      code,
      clusterName,
      clusterDescription: text("cluster-description") ?? "",
      ...(identityId !== undefined ? { identityId } : {}),
    },
  };
}

/**
 * A digest of the Secret's data, independent of key order. Compared instead
 * of the resourceVersion so that updates that leave the data alone (labels,
 * annotations) do not cause a new registration.
 */
export function dataDigest(data: Record<string, string> | undefined): string {
  const entries = Object.entries(data ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex");
}
