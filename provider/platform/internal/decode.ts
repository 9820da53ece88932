/**
 * The platform API's answers, checked and normalised (see `./json` for how
 * absent and mistyped fields are treated). Fields a type does not know are
 * dropped, except on a Cluster, whose unknown fields a `PUT` sends back.
 * @module
 */

import type { Cluster, EnforcerOptions, Identity, Invite, StaticKeys } from "../types";
import { bool, object, str, strings, type Fail } from "./json";

export function decodeInvite(json: unknown, fail: Fail): Invite {
  const o = object(json, "body", fail);
  return {
    id: str(o, "id", "body", fail, true),
    expiration: str(o, "expiration", "body", fail),
    keyId: str(o, "keyId", "body", fail),
    role: str(o, "role", "body", fail),
    code: str(o, "code", "body", fail, true),
  };
}

function decodeStatic(value: unknown, where: string, fail: Fail): StaticKeys {
  const o = object(value, where, fail);
  return {
    issuer: str(o, "issuer", where, fail),
    subject: str(o, "subject", where, fail),
    issuerKeys: str(o, "issuerKeys", where, fail),
    expiration: str(o, "expiration", where, fail),
  };
}

export function decodeIdentity(json: unknown, where: string, fail: Fail): Identity {
  const o = object(json, where, fail);
  const identity: Identity = {
    id: str(o, "id", where, fail, true),
    name: str(o, "name", where, fail),
    description: str(o, "description", where, fail),
  };
  if (o.static !== undefined && o.static !== null) {
    identity.static = decodeStatic(o.static, `${where}.static`, fail);
  }
  return identity;
}

function decodeEnforcerOptions(value: unknown, where: string, fail: Fail): EnforcerOptions {
  const o = object(value ?? {}, where, fail);
  const mode = o.namespaceEnforcementMode ?? "OptIn";
  if (mode !== "OptIn" && mode !== "OptOut") {
    return fail(`${where}.namespaceEnforcementMode is neither "OptIn" nor "OptOut"`);
  }
  return {
    webhookFailOpen: bool(o, "webhookFailOpen", where, fail),
    enableCipCache: bool(o, "enableCipCache", where, fail),
    namespaceEnforcementMode: mode,
  };
}

/** A Cluster; fields this client does not know are kept, so a `PUT` sends them back. */
export function decodeCluster(json: unknown, where: string, fail: Fail): Cluster {
  const o = object(json, where, fail);
  const s = (key: string) => str(o, key, where, fail);
  return {
    ...o,
    id: str(o, "id", where, fail, true),
    remoteId: s("remoteId"),
    issuer: s("issuer"),
    registered: s("registered"),
    lastSeen: s("lastSeen"),
    version: s("version"),
    agentVersion: s("agentVersion"),
    name: s("name"),
    description: s("description"),
    group: s("group"),
    profiles: strings(o, "profiles", where, fail),
    enforcerOptions: decodeEnforcerOptions(o.enforcerOptions, `${where}.enforcerOptions`, fail),
    identityId: s("identityId"),
  };
}
