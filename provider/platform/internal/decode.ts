/**
 * Checks and normalises response bodies. grpc-gateway omits zero values
 * (empty strings, false, empty lists) unless told otherwise, so absent fields
 * get their zero value; present fields of the wrong type, or a missing
 * identifying field, are reported through `fail`, which never sees the body.
 */
import type {
  AuditEntry,
  Cluster,
  DiscoveryDocument,
  EnforcerOptions,
  ExchangeResponse,
  HeartbeatResponse,
  Identity,
  Invite,
  RegisterResponse,
  StaticKeys,
} from "../types";

/** Reports a problem with the body; throws. */
export type Fail = (problem: string) => never;
type Json = Record<string, unknown>;

function object(value: unknown, where: string, fail: Fail): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${where} is not a JSON object`);
  }
  return value as Json;
}

function str(o: Json, key: string, where: string, fail: Fail, required = false): string {
  const value = o[key];
  if (value === undefined || value === null) {
    return required ? fail(`${where}.${key} is missing`) : "";
  }
  if (typeof value !== "string") return fail(`${where}.${key} is not a string`);
  if (required && value === "") return fail(`${where}.${key} is empty`);
  return value;
}

function bool(o: Json, key: string, where: string, fail: Fail): boolean {
  const value = o[key] ?? false;
  return typeof value === "boolean" ? value : fail(`${where}.${key} is not a boolean`);
}

// grpc-gateway writes 64-bit integers as strings.
function int(o: Json, key: string, where: string, fail: Fail): number {
  const value = o[key] ?? 0;
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n)
    ? n
    : fail(`${where}.${key} is not an integer`);
}

function strings(o: Json, key: string, where: string, fail: Fail): string[] {
  const value = o[key] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    return fail(`${where}.${key} is not a list of strings`);
  }
  return value as string[];
}

/** `{"items":[...]}` with each item decoded; an absent list is empty. */
export function decodeItems<T>(
  json: unknown,
  fail: Fail,
  one: (value: unknown, where: string, fail: Fail) => T,
): T[] {
  const items = object(json, "body", fail).items ?? [];
  if (!Array.isArray(items)) return fail("body.items is not a list");
  return items.map((item, i) => one(item, `items[${i}]`, fail));
}

/** An empty answer (`{}`) of a delete. */
export function decodeEmpty(json: unknown, fail: Fail): void {
  object(json, "body", fail);
}

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

export function decodeAuditEntry(json: unknown, where: string, fail: Fail): AuditEntry {
  const o = object(json, where, fail);
  return {
    seq: int(o, "seq", where, fail),
    time: str(o, "time", where, fail),
    method: str(o, "method", where, fail),
    path: str(o, "path", where, fail),
    status: int(o, "status", where, fail),
  };
}

export function decodeRegister(json: unknown, fail: Fail): RegisterResponse {
  const o = object(json, "body", fail);
  return {
    identity: str(o, "identity", "body", fail),
    group: str(o, "group", "body", fail),
    clusterId: str(o, "clusterId", "body", fail, true),
  };
}

export function decodeExchange(json: unknown, fail: Fail): ExchangeResponse {
  return { token: str(object(json, "body", fail), "token", "body", fail, true) };
}

export function decodeHeartbeat(json: unknown, fail: Fail): HeartbeatResponse {
  return { lastSeen: str(object(json, "body", fail), "lastSeen", "body", fail) };
}

export function decodeDiscovery(json: unknown, fail: Fail): DiscoveryDocument {
  const o = object(json, "body", fail);
  return {
    ...o,
    issuer: str(o, "issuer", "body", fail, true),
    jwks_uri: str(o, "jwks_uri", "body", fail, true),
  };
}
