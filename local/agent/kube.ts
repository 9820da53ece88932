/**
 * The agent's view of its cluster, through @kubernetes/client-node (ESM-only, so loaded with
 * `import()`), with two credentials as a real agent pod has them: the kubelet's (the bootstrap
 * kubeconfig: the StatefulSet and token minting only) and the agent's ServiceAccount token for
 * everything else (the `gulfstream` Namespace, ConfigMaps, the `mcp-creds` Secret, Events).
 */
import type {
  AppsV1Api,
  CoreV1Api,
  CoreV1Event,
  KubeConfig,
  V1PodTemplateSpec,
  V1Secret,
} from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as K8sModule from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
  NAMESPACE,
  NAMESPACE_REF,
  SECRET,
  SERVICE_ACCOUNT,
  SERVICE_ACCOUNT_REF,
  STATEFULSET,
  STATEFULSET_REF,
} from "./names";
import type { TokenSpec } from "./pod";

/** A Kubernetes API call failed for a reason other than "not found". */
export class KubeApiError extends Error {
  readonly code = "ERR_AGENT_KUBE_API";
  /** HTTP status, when the API server answered. */
  readonly statusCode: number | undefined;

  constructor(what: string, statusCode: number | undefined, detail: string, cause?: unknown) {
    super(
      `${what} failed (${statusCode === undefined ? detail : `HTTP ${statusCode}: ${detail}`})`,
      { cause },
    );
    this.name = "KubeApiError";
    this.statusCode = statusCode;
  }
}

/** The `gulfstream` Namespace as far as registration cares. */
export interface NamespaceInfo {
  uid: string;
  /** Deletion has started: the namespace and its contents are going away. */
  terminating: boolean;
}

/** The agent's StatefulSet as far as the agent cares: it runs only while it exists. */
export interface StatefulSetInfo {
  uid: string;
  /** Deletion has started (a deletionTimestamp is set): the workload is going away. */
  terminating: boolean;
  /** The pod template: what the kubelet would run. */
  template: V1PodTemplateSpec | undefined;
}

/** A service-account token and when it expires (ms since the epoch). */
export interface MintedToken {
  token: string;
  expiresAt: number;
}

/** A list of the `mcp-creds` Secret (zero or one item) and where a watch resumes. */
export interface SecretList {
  secret: V1Secret | undefined;
  resourceVersion: string;
}

/** One watch event on the Secret, as the API server sent it. */
export interface WatchEvent {
  type: string;
  object: {
    kind?: string;
    code?: number;
    message?: string;
    metadata?: { resourceVersion?: string };
  } & Partial<V1Secret>;
}

/**
 * Callbacks of {@link KubeAccess.watchSecret}. `done` is called once: with no
 * error when the server ended the watch, with one when it failed.
 */
export interface WatchHandlers {
  event: (e: WatchEvent) => void;
  done: (err: (Error & { statusCode?: number }) | null) => void;
}

const FIELD_SELECTOR = `metadata.name=${SECRET}`;

/** The agent's API token, or why it has none. */
export type AgentToken = { token: string } | { reason: string };

/** How to reach the API server: taken from the bootstrap kubeconfig, shared by both accesses. */
interface Endpoint {
  name: string;
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
}

type K8s = typeof K8sModule;

/**
 * What a kubelet does for the agent's pod, with the bootstrap credential: read the agent's
 * StatefulSet (the pod's spec) and mint the agent's ServiceAccount tokens (token projection).
 */
export class BootstrapAccess {
  private constructor(
    private readonly k8s: K8s,
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly apps: AppsV1Api,
    readonly endpoint: Endpoint,
  ) {}

  /** The API server's URL, for log lines. */
  get server(): string {
    return this.endpoint.server;
  }

  /** Loads the bootstrap kubeconfig (its current context). @throws when it cannot be read. */
  static async load(kubeconfigPath: string): Promise<BootstrapAccess> {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    try {
      kc.loadFromFile(kubeconfigPath);
    } catch (err) {
      throw new Error(
        `cannot load kubeconfig ${kubeconfigPath}: ${(err as Error).message}. Pass the path of a ` +
          `readable kubeconfig file.`,
        { cause: err },
      );
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) {
      throw new Error(`kubeconfig ${kubeconfigPath} has no current context with a cluster`);
    }
    const endpoint: Endpoint = {
      name: cluster.name,
      server: cluster.server,
      caData: cluster.caData,
      caFile: cluster.caFile,
      skipTLSVerify: cluster.skipTLSVerify,
    };
    return new BootstrapAccess(
      k8s,
      kc,
      kc.makeApiClient(k8s.CoreV1Api),
      kc.makeApiClient(k8s.AppsV1Api),
      endpoint,
    );
  }

  /**
   * Access with the agent's own API token, on the same server. `refused` is told when the API
   * server rejects the token (401), e.g. after its signing key was rotated.
   */
  agentAccess(token: () => Promise<AgentToken>, refused: () => void = () => {}): AgentAccess {
    return new AgentAccess(this.k8s, this.endpoint, token, refused);
  }

  /** Reads the agent's StatefulSet; undefined when it (or its namespace) does not exist. */
  async readStatefulSet(): Promise<StatefulSetInfo | undefined> {
    try {
      const sts = await bounded(
        this.apps.readNamespacedStatefulSet({ name: STATEFULSET, namespace: NAMESPACE }),
      );
      return {
        uid: sts.metadata?.uid ?? "",
        terminating: !!sts.metadata?.deletionTimestamp,
        template: sts.spec?.template,
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw await apiError(`reading ${STATEFULSET_REF}`, err);
    }
  }

  /**
   * Mints a token for the agent's ServiceAccount through TokenRequest, as the kubelet does for a
   * projected volume: with its audience (none: the API server's own) and lifetime. Undefined
   * when the ServiceAccount (or its namespace) does not exist.
   */
  async mintToken(spec: TokenSpec): Promise<MintedToken | undefined> {
    try {
      const tr = await bounded(
        this.core.createNamespacedServiceAccountToken({
          name: SERVICE_ACCOUNT,
          namespace: NAMESPACE,
          body: {
            spec: {
              // None given: the API server's own audiences, as for an automounted token.
              audiences: spec.audience !== undefined ? [spec.audience] : [],
              expirationSeconds: spec.expirationSeconds,
            },
          },
        }),
      );
      const token = tr.status?.token;
      if (!token) {
        throw new KubeApiError(`TokenRequest for ${SERVICE_ACCOUNT_REF}`, 201, "no token");
      }
      const expiry = tr.status?.expirationTimestamp;
      const expiresAt = expiry
        ? new Date(expiry).getTime()
        : Date.now() + spec.expirationSeconds * 1000;
      return { token, expiresAt };
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (statusOf(err) === 404) return undefined;
      throw await apiError(`TokenRequest for ${SERVICE_ACCOUNT_REF}`, err);
    }
  }

  /** The kubeconfig's user, for log lines. */
  get user(): string {
    return this.kc.getCurrentUser()?.name ?? "";
  }
}

/**
 * The agent's own access to the cluster: every request carries its ServiceAccount's API token,
 * so the RBAC the connection installed decides what it may do.
 */
export class AgentAccess {
  private current: { token: string; kc: KubeConfig; core: CoreV1Api } | undefined;

  constructor(
    private readonly k8s: K8s,
    private readonly endpoint: Endpoint,
    private readonly token: () => Promise<AgentToken>,
    private readonly refused: () => void,
  ) {}

  /**
   * The error to throw for a failed call. A token the API server rejects is dropped, so the
   * next call gets a new one, as a restarted pod would.
   */
  private async failure(what: string, err: unknown): Promise<KubeApiError> {
    if (statusOf(err) === 401) {
      this.current = undefined;
      this.refused();
    }
    return apiError(what, err);
  }

  /** A client for the current token; a new one when the token was renewed. */
  private async client(what: string): Promise<{ kc: KubeConfig; core: CoreV1Api }> {
    const got = await this.token();
    if ("reason" in got) throw new KubeApiError(what, undefined, `no API token: ${got.reason}`);
    const { token } = got;
    if (this.current?.token !== token) {
      const kc = new this.k8s.KubeConfig();
      const { name, server, caData, caFile, skipTLSVerify } = this.endpoint;
      kc.loadFromOptions({
        clusters: [{ name, server, caData, caFile, skipTLSVerify }],
        users: [{ name: SERVICE_ACCOUNT_REF, token }],
        contexts: [{ name, cluster: name, user: SERVICE_ACCOUNT_REF }],
        currentContext: name,
      });
      this.current = { token, kc, core: kc.makeApiClient(this.k8s.CoreV1Api) };
    }
    return this.current;
  }

  /** Reads the agent's namespace; undefined when it does not exist. */
  async readNamespace(): Promise<NamespaceInfo | undefined> {
    const what = `reading ${NAMESPACE_REF}`;
    try {
      const { core } = await this.client(what);
      const ns = await bounded(core.readNamespace({ name: NAMESPACE }));
      return {
        uid: ns.metadata?.uid ?? "",
        terminating: !!ns.metadata?.deletionTimestamp || ns.status?.phase === "Terminating",
      };
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (statusOf(err) === 404) return undefined;
      throw await this.failure(what, err);
    }
  }

  /** Reads a ConfigMap of the agent's namespace; undefined when it does not exist. */
  async readConfigMap(name: string): Promise<Record<string, string> | undefined> {
    const what = `reading ConfigMap ${NAMESPACE}/${name}`;
    try {
      const { core } = await this.client(what);
      const cm = await bounded(core.readNamespacedConfigMap({ name, namespace: NAMESPACE }));
      return cm.data ?? {};
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (statusOf(err) === 404) return undefined;
      throw await this.failure(what, err);
    }
  }

  /** Creates a core/v1 Event in the agent's namespace (`POST /api/v1/namespaces/{NAMESPACE}/events`). */
  async createEvent(event: CoreV1Event): Promise<void> {
    const what = `creating Event ${NAMESPACE}/${event.metadata?.name ?? ""}`;
    try {
      const { core } = await this.client(what);
      await bounded(core.createNamespacedEvent({ namespace: NAMESPACE, body: event }));
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      throw await this.failure(what, err);
    }
  }

  /** Lists the `mcp-creds` Secret; an absent namespace lists as empty. */
  async listSecret(): Promise<SecretList> {
    const what = `listing Secret ${NAMESPACE}/${SECRET}`;
    try {
      const { core } = await this.client(what);
      const list = await bounded(
        core.listNamespacedSecret({
          namespace: NAMESPACE,
          fieldSelector: FIELD_SELECTOR,
        }),
      );
      return { secret: list.items[0], resourceVersion: list.metadata?.resourceVersion ?? "" };
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      throw await this.failure(what, err);
    }
  }

  /**
   * Starts a watch on the `mcp-creds` Secret from `resourceVersion`, with
   * bookmarks and a server-side timeout. Resolves with a function that ends it.
   */
  async watchSecret(
    resourceVersion: string,
    timeoutSeconds: number,
    handlers: WatchHandlers,
  ): Promise<() => void> {
    const { kc } = await this.client(`watching Secret ${NAMESPACE}/${SECRET}`);
    const watch = new this.k8s.Watch(kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${NAMESPACE}/secrets`,
      {
        fieldSelector: FIELD_SELECTOR,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      (type: string, object: WatchEvent["object"]) => handlers.event({ type, object }),
      (err: (Error & { statusCode?: number }) | null) => {
        if (err?.statusCode === 401) {
          this.current = undefined;
          this.refused();
        }
        handlers.done(err);
      },
    );
    return () => controller.abort();
  }
}

/** How long one Kubernetes API call may take: a request lost in an API server restart must not hang the agent. */
const CALL_TIMEOUT_MS = 15_000;

/** Settles like `call`, or rejects with an ETIMEDOUT error once it took {@link CALL_TIMEOUT_MS}. */
function bounded<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`no answer within ${CALL_TIMEOUT_MS / 1000}s`), {
            code: "ETIMEDOUT",
          }),
        ),
      CALL_TIMEOUT_MS,
    );
  });
  call.catch(() => undefined);
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Turns a client-node failure into a {@link KubeApiError} carrying the API
 * server's own message. Its `ApiException` message is not reused: it pastes
 * the response headers in.
 */
async function apiError(what: string, err: unknown): Promise<KubeApiError> {
  const statusCode = statusOf(err);
  if (statusCode === undefined) {
    const e = err as { code?: unknown; message?: string };
    const detail = typeof e?.code === "string" ? e.code : (e?.message ?? String(err));
    return new KubeApiError(what, undefined, detail, err);
  }
  let body: unknown = (err as { body?: unknown }).body;
  if (body instanceof Promise) body = await body.catch(() => undefined);
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // Not a Status object: fall back to the status code alone.
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return new KubeApiError(
    what,
    statusCode,
    typeof message === "string" ? message : "no message",
    err,
  );
}
