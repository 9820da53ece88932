/**
 * In-process fakes of the clients the lifecycle steps use: a Kubernetes API that stores what is
 * applied (by path, with UIDs and label selection), a platform that keeps clusters, identities
 * and invites in arrays, and a {@link LifecycleContext} over both. Each records its calls so a
 * test can assert what a step decided to do.
 */

import { checkedNews, connectionState } from "./connection-fixtures";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import type { KubeClient, RequestOptions, Response } from "../../provider/kube/client";
import { KubeStatusError } from "../../provider/kube/errors";
import { collectionPath, KINDS, kindOf, objectPath } from "../../provider/install/kinds";
import type { KubeObject } from "../../provider/install/manifests";
import { AGENT_NAMESPACE } from "../../provider/install/names";
import { withOwnership } from "../../provider/install/ownership";
import type { LifecycleContext } from "../../provider/lifecycle/context";
import type { ConnectionState } from "../../provider/lifecycle/state";
import type {
  Cluster,
  ClusterFilter,
  CreateIdentityOptions,
  CreateInviteOptions,
  Identity,
  IdentityFilter,
  Invite,
  PlatformClient,
} from "../../provider/platform";

type Stored = KubeObject & { metadata: KubeObject["metadata"] & { uid: string } };

/** A Kubernetes API server in memory. */
export class FakeKube {
  readonly objects = new Map<string, Stored>();
  /** `METHOD path` of every request. */
  readonly calls: string[] = [];
  /** Called after each apply (e.g. to let a fake agent register). */
  onApply?: (object: Stored) => void;
  /** Makes a request fail: return the error to throw. */
  failWith?: (method: string, path: string) => Error | undefined;
  closed = false;
  #uids = 0;

  /** Stores an object as if someone else had made it. */
  put(object: KubeObject & { metadata: { uid?: string; deletionTimestamp?: string } }): Stored {
    const stored = {
      ...object,
      metadata: { ...object.metadata, uid: object.metadata.uid ?? `uid-${++this.#uids}` },
    } as Stored;
    this.objects.set(this.pathOf(object), stored);
    return stored;
  }

  /** The stored object `object` names, if any. */
  find(object: KubeObject): Stored | undefined {
    return this.objects.get(this.pathOf(object));
  }

  /** This fake, typed as the client the steps take. */
  client(): KubeClient {
    return this as unknown as KubeClient;
  }

  async get<T>(path: string, opts: RequestOptions = {}): Promise<Response<T>> {
    this.record("GET", path);
    const found = this.objects.get(path);
    if (found) return { status: 200, body: found as T };
    const kind = KINDS.find((k) => collectionPath(k) === path);
    if (kind) {
      const selector = opts.query?.labelSelector ?? "";
      const items = [...this.objects.values()].filter(
        (o) => o.apiVersion === kind.apiVersion && o.kind === kind.kind && matches(o, selector),
      );
      return { status: 200, body: { items } as T };
    }
    return this.notFound("GET", path, opts);
  }

  async apply<T>(path: string, object: unknown): Promise<Response<T>> {
    this.record("APPLY", path);
    const o = object as KubeObject;
    const uid = this.objects.get(path)?.metadata.uid ?? `uid-${++this.#uids}`;
    const stored = { ...o, metadata: { ...o.metadata, uid } } as Stored;
    this.objects.set(path, stored);
    this.onApply?.(stored);
    return { status: 200, body: stored as T };
  }

  async delete<T>(path: string, opts: RequestOptions = {}): Promise<Response<T>> {
    this.record("DELETE", path);
    if (!this.objects.delete(path)) return this.notFound("DELETE", path, opts);
    return { status: 200, body: { kind: "Status" } as T };
  }

  close(): void {
    this.closed = true;
  }

  private record(method: string, path: string): void {
    this.calls.push(`${method} ${path}`);
    const err = this.failWith?.(method, path);
    if (err) throw err;
  }

  private notFound<T>(method: string, path: string, opts: RequestOptions): Response<T> {
    if (opts.accept?.includes(404)) return { status: 404, body: undefined as T };
    throw new KubeStatusError(`${method} ${path}`, 404, "NotFound", "");
  }

  private pathOf(o: KubeObject): string {
    return objectPath(kindOf(o), o.metadata.name, o.metadata.namespace);
  }
}

function matches(o: Stored, selector: string): boolean {
  const labels = (o.metadata as { labels?: Record<string, string> }).labels ?? {};
  return selector
    .split(",")
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split("=") as [string, string?];
      return labels[key] === value;
    });
}

/** The Enforce platform in memory. */
export class FakePlatform {
  clusters: Cluster[] = [];
  identities: Identity[] = [];
  invites: Invite[] = [];
  /** One line per call that changes something, e.g. `deleteIdentity <id>`. */
  readonly changes: string[] = [];
  closed = false;
  #n = 0;

  /** This fake, typed as the client the steps take. */
  client(): PlatformClient {
    return this as unknown as PlatformClient;
  }

  async listClusters(f: ClusterFilter = {}): Promise<Cluster[]> {
    return this.clusters.filter(
      (c) =>
        (f.id === undefined || c.id === f.id) &&
        (f.remoteId === undefined || c.remoteId === f.remoteId),
    );
  }

  async deleteCluster(id: string): Promise<boolean> {
    this.changes.push(`deleteCluster ${id}`);
    const before = this.clusters.length;
    this.clusters = this.clusters.filter((c) => c.id !== id);
    return this.clusters.length < before;
  }

  async updateCluster(cluster: Cluster): Promise<Cluster> {
    this.changes.push(`updateCluster ${cluster.id}`);
    this.clusters = this.clusters.map((c) => (c.id === cluster.id ? cluster : c));
    return cluster;
  }

  async createIdentity(parent: string, o: CreateIdentityOptions): Promise<Identity> {
    const id = `${parent}/identity-${++this.#n}`;
    this.changes.push(`createIdentity ${o.name}`);
    const identity: Identity = {
      id,
      name: o.name,
      description: o.description ?? "",
      static: {
        issuer: o.issuer,
        subject: o.subject,
        issuerKeys: JSON.stringify(o.issuerKeys),
        expiration: o.expiration.toISOString().replace(".000Z", "Z"),
      },
    };
    this.identities.push(identity);
    return identity;
  }

  async listIdentities(f: IdentityFilter = {}): Promise<Identity[]> {
    return this.identities.filter(
      (i) => f.childrenOf === undefined || i.id.startsWith(`${f.childrenOf}/`),
    );
  }

  async deleteIdentity(id: string): Promise<boolean> {
    this.changes.push(`deleteIdentity ${id}`);
    this.identities = this.identities.filter((i) => i.id !== id);
    return true;
  }

  async createInvite(group: string, o: CreateInviteOptions): Promise<Invite> {
    const n = ++this.#n;
    this.changes.push(`createInvite ${group} ttl=${o.ttlSeconds}`);
    const invite = {
      id: `${group}/invite-${n}`,
      code: `code-${n}`,
      expiration: "",
      keyId: "",
      role: "",
    };
    this.invites.push(invite);
    return invite;
  }

  async deleteInvite(id: string): Promise<boolean> {
    this.changes.push(`deleteInvite ${id}`);
    this.invites = this.invites.filter((i) => i.id !== id);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A platform cluster record with the given fields over plain defaults. */
export function clusterRecord(over: Partial<Cluster> & { id: string }): Cluster {
  return {
    remoteId: "",
    issuer: "",
    registered: "2026-11-20T12:00:05Z",
    lastSeen: "",
    version: "",
    agentVersion: "",
    name: "prod",
    description: "",
    group: "",
    profiles: ["observer", "enforcer"],
    enforcerOptions: {
      webhookFailOpen: false,
      enableCipCache: false,
      namespaceEnforcementMode: "OptIn",
    },
    identityId: "",
    ...over,
  };
}

/** A context over the fakes; `progress` lines are collected in `lines`. */
export function fakeContext(
  kube: FakeKube,
  platform: FakePlatform,
  now = new Date("2026-11-27T12:00:00Z"),
): LifecycleContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    connect: async () => kube.client(),
    platform: () => platform.client(),
    agentPlatform: () => ({ apiUrl: "https://api.example", issuerUrl: "https://issuer.example" }),
    now: () => now,
    progress: (line) => lines.push(line),
    newConnectionId: () => "cccccccccccccccccccccccc",
    registrationPollMs: 1,
    progressEveryMs: 60_000,
  };
}

/** The connection the fixtures describe. */
export const CONNECTION_ID = "aaaaaaaaaaaaaaaaaaaaaaaa";
/** The group the fixtures register in. */
export const GROUP = "0123456789abcdef0123456789abcdef01234567";
/** The platform the fake context's agent is given, as summarized in state. */
export const PLATFORM = {
  apiUrl: "https://api.example",
  caSha256: "",
  issuerUrl: "https://issuer.example",
};

/**
 * Checked inputs of a connection in {@link GROUP} that asks for `auto` connectivity, as a
 * preview with the cluster not observed gives them; `over` as in {@link checkedNews}.
 */
export function checkedInputs(over: Record<string, unknown> = {}): CheckedInputs {
  const base = connectionState({
    requestedConnectivity: "auto",
    platform: { ...PLATFORM },
    resourceUrn: "urn:pulumi:dev::app::pulumi-enforce:index:EnforceClusterConnection::prod",
  });
  return checkedNews(over, null, base) as unknown as CheckedInputs;
}

/** The stored state of a registered private connection {@link CONNECTION_ID}. */
export function storedState(over: Partial<ConnectionState> = {}): ConnectionState {
  return connectionState({
    clusterId: `${GROUP}/cluster-old`,
    connectionId: CONNECTION_ID,
    group: GROUP,
    identityId: `${GROUP}/identity-old`,
    issuer: "https://issuer.cluster.example",
    platform: { ...PLATFORM },
    ...over,
  });
}

/** The agent namespace `gulfstream`, owned by `owner` (a connection id) or by no connection. */
export function agentNamespace(
  uid: string,
  owner?: string,
  extra: Record<string, unknown> = {},
): KubeObject & { metadata: { uid: string } } {
  const metadata = { name: AGENT_NAMESPACE, uid, ...extra };
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: (owner
      ? withOwnership(metadata, { connectionId: owner, clusterName: "prod" })
      : metadata) as KubeObject["metadata"] & { uid: string },
  };
}
