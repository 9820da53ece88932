/** The rows the store hands out, in the emulator's own (not wire) shapes. Times are epoch ms. */

export interface GroupRecord {
  id: string;
  parent: string | undefined;
  name: string;
  created: number;
}

export interface InviteRecord {
  id: string;
  group: string;
  codeHash: string;
  role: string;
  keyId: string;
  expiration: number;
  created: number;
}

export interface IdentityRecord {
  id: string;
  parent: string;
  name: string;
  description: string;
  issuer: string;
  subject: string;
  /** The uploaded JWKS, as the JSON string it arrived in. */
  issuerKeys: string;
  expiration: number;
  created: number;
}

export type NamespaceEnforcementMode = "OptIn" | "OptOut";

export interface EnforcerOptions {
  webhookFailOpen: boolean;
  enableCipCache: boolean;
  namespaceEnforcementMode: NamespaceEnforcementMode;
}

export interface ClusterRecord {
  id: string;
  group: string;
  remoteId: string;
  issuer: string;
  /** The static-key identity of a private cluster's last registration; "" for public ones. */
  identityId: string;
  name: string;
  description: string;
  registered: number;
  lastSeen: number;
  version: string;
  agentVersion: string;
  profiles: string[];
  enforcerOptions: EnforcerOptions;
}

export interface AuditRecord {
  seq: number;
  time: number;
  method: string;
  path: string;
  /** Undefined while the call is still being answered. */
  status: number | undefined;
}
