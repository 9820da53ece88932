/**
 * The issuer's and the audit trail's answers, read with the provider's JSON
 * helpers so that absent and mistyped fields are treated as in every other
 * platform answer.
 */
import { int, object, str, type Fail } from "../../provider/platform/internal/json";
import type {
  AuditEntry,
  DiscoveryDocument,
  ExchangeResponse,
  HeartbeatResponse,
  RegisterResponse,
} from "./types";

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
