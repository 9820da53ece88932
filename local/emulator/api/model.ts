/** The JSON shapes of the contract (docs/platform-api.md) and conversions from stored records. */
import { invalidArgument } from "../http/errors";
import type { ClusterRecord, EnforcerOptions, IdentityRecord, InviteRecord } from "../store";
import { formatTimestamp } from "../http/time";
import {
  optionalBoolean,
  optionalObject,
  optionalStringArray,
  optionalString,
} from "../http/validate";

export interface InviteJson {
  id: string;
  expiration: string;
  keyId: string;
  role: string;
  code: string;
}

export interface IdentityJson {
  id: string;
  name: string;
  description: string;
  static: { issuer: string; subject: string; issuerKeys: string; expiration: string };
}

export interface ClusterJson {
  id: string;
  remoteId: string;
  issuer: string;
  registered: string;
  lastSeen: string;
  version: string;
  agentVersion: string;
  name: string;
  description: string;
  group: string;
  activity: Record<string, never>;
  profiles: string[];
  enforcerOptions: EnforcerOptions;
  identityId: string;
}

/** The invite as created; `code` is shown here only. */
export function inviteJson(invite: InviteRecord, code: string): InviteJson {
  return {
    id: invite.id,
    expiration: formatTimestamp(invite.expiration),
    keyId: invite.keyId,
    role: invite.role,
    code,
  };
}

export function identityJson(identity: IdentityRecord): IdentityJson {
  return {
    id: identity.id,
    name: identity.name,
    description: identity.description,
    static: {
      issuer: identity.issuer,
      subject: identity.subject,
      issuerKeys: identity.issuerKeys,
      expiration: formatTimestamp(identity.expiration),
    },
  };
}

export function clusterJson(cluster: ClusterRecord): ClusterJson {
  return {
    id: cluster.id,
    remoteId: cluster.remoteId,
    issuer: cluster.issuer,
    registered: formatTimestamp(cluster.registered),
    lastSeen: formatTimestamp(cluster.lastSeen),
    version: cluster.version,
    agentVersion: cluster.agentVersion,
    name: cluster.name,
    description: cluster.description,
    group: cluster.group,
    activity: {},
    profiles: [...cluster.profiles],
    enforcerOptions: { ...cluster.enforcerOptions },
    identityId: cluster.identityId,
  };
}

/** Enforcer options of a cluster nobody configured (the CLI's defaults). */
export const DEFAULT_ENFORCER_OPTIONS: EnforcerOptions = {
  webhookFailOpen: false,
  enableCipCache: false,
  namespaceEnforcementMode: "OptIn",
};

/** Profiles of a cluster registered without any. */
export const DEFAULT_PROFILES = ["enforcer"];

const PROFILE = /^[a-z][a-z0-9_-]{0,62}$/;

/** The `profiles` field, validated; undefined when absent. */
export function readProfiles(body: Record<string, unknown>): string[] | undefined {
  const profiles = optionalStringArray(body, "profiles");
  const bad = profiles?.find((p) => !PROFILE.test(p));
  if (bad !== undefined) {
    throw invalidArgument(`profiles: ${JSON.stringify(bad)} is not a profile name`);
  }
  return profiles && [...new Set(profiles)];
}

/** The `enforcerOptions` field merged over `base`; `base` itself when absent. */
export function readEnforcerOptions(
  body: Record<string, unknown>,
  base: EnforcerOptions,
): EnforcerOptions {
  const given = optionalObject(body, "enforcerOptions");
  if (given === undefined) return base;
  const mode = optionalString(
    given,
    "namespaceEnforcementMode",
    "enforcerOptions.namespaceEnforcementMode",
  );
  if (mode !== undefined && mode !== "OptIn" && mode !== "OptOut") {
    throw invalidArgument(
      `enforcerOptions.namespaceEnforcementMode must be "OptIn" or "OptOut", got ${JSON.stringify(mode)}`,
    );
  }
  const flag = (name: "webhookFailOpen" | "enableCipCache"): boolean => {
    try {
      return optionalBoolean(given, name) ?? base[name];
    } catch {
      throw invalidArgument(`enforcerOptions.${name} must be true or false`);
    }
  };
  return {
    webhookFailOpen: flag("webhookFailOpen"),
    enableCipCache: flag("enableCipCache"),
    namespaceEnforcementMode: mode ?? base.namespaceEnforcementMode,
  };
}
