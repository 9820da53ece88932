/**
 * The agent's view of its cluster: the `gulfstream` Namespace, the agent's
 * StatefulSet, ServiceAccount tokens, the `mcp-creds` Secret and the Events
 * the agent reports, through @kubernetes/client-node (ESM-only, so loaded
 * with `import()`).
 */
import type {
  AppsV1Api,
  CoreV1Api,
  CoreV1Event,
  KubeConfig,
  V1Secret,
  Watch,
} from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
  NAMESPACE,
  NAMESPACE_REF,
  SECRET,
  SERVICE_ACCOUNT,
  SERVICE_ACCOUNT_REF,
  STATEFULSET,
  STATEFULSET_REF,
  TOKEN_AUDIENCE,
  TOKEN_SECONDS,
} from "./names";

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

/** Access to one cluster with the credentials of a kubeconfig file. */
export class KubeAccess {
  private constructor(
    private readonly watchClass: typeof Watch,
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly apps: AppsV1Api,
  ) {}

  /** The API server's URL, for log lines. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? "";
  }

  /** Loads a kubeconfig file (its current context). @throws when it cannot be read. */
  static async load(kubeconfigPath: string): Promise<KubeAccess> {
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
    if (!kc.getCurrentCluster()) {
      throw new Error(`kubeconfig ${kubeconfigPath} has no current context with a cluster`);
    }
    return new KubeAccess(
      k8s.Watch,
      kc,
      kc.makeApiClient(k8s.CoreV1Api),
      kc.makeApiClient(k8s.AppsV1Api),
    );
  }

  /** Reads the agent's namespace; undefined when it does not exist. */
  async readNamespace(): Promise<NamespaceInfo | undefined> {
    try {
      const ns = await this.core.readNamespace({ name: NAMESPACE });
      return {
        uid: ns.metadata?.uid ?? "",
        terminating: !!ns.metadata?.deletionTimestamp || ns.status?.phase === "Terminating",
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw await apiError(`reading ${NAMESPACE_REF}`, err);
    }
  }

  /** Reads the agent's StatefulSet; undefined when it (or its namespace) does not exist. */
  async readStatefulSet(): Promise<StatefulSetInfo | undefined> {
    try {
      const sts = await this.apps.readNamespacedStatefulSet({
        name: STATEFULSET,
        namespace: NAMESPACE,
      });
      return { uid: sts.metadata?.uid ?? "", terminating: !!sts.metadata?.deletionTimestamp };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw await apiError(`reading ${STATEFULSET_REF}`, err);
    }
  }

  /** Creates a core/v1 Event in the agent's namespace (`POST /api/v1/namespaces/gulfstream/events`). */
  async createEvent(event: CoreV1Event): Promise<void> {
    try {
      await this.core.createNamespacedEvent({ namespace: NAMESPACE, body: event });
    } catch (err) {
      throw await apiError(`creating Event ${NAMESPACE}/${event.metadata?.name ?? ""}`, err);
    }
  }

  /**
   * Mints a token for the agent's ServiceAccount through TokenRequest, with
   * the audience and lifetime of the agent's projected token. Undefined when
   * the ServiceAccount (or its namespace) does not exist.
   */
  async mintToken(): Promise<MintedToken | undefined> {
    try {
      const tr = await this.core.createNamespacedServiceAccountToken({
        name: SERVICE_ACCOUNT,
        namespace: NAMESPACE,
        body: { spec: { audiences: [TOKEN_AUDIENCE], expirationSeconds: TOKEN_SECONDS } },
      });
      const token = tr.status?.token;
      if (!token) {
        throw new KubeApiError(`TokenRequest for ${SERVICE_ACCOUNT_REF}`, 201, "no token");
      }
      const expiry = tr.status?.expirationTimestamp;
      const expiresAt = expiry ? new Date(expiry).getTime() : Date.now() + TOKEN_SECONDS * 1000;
      return { token, expiresAt };
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (statusOf(err) === 404) return undefined;
      throw await apiError(`TokenRequest for ${SERVICE_ACCOUNT_REF}`, err);
    }
  }

  /** Lists the `mcp-creds` Secret; an absent namespace lists as empty. */
  async listSecret(): Promise<SecretList> {
    try {
      const list = await this.core.listNamespacedSecret({
        namespace: NAMESPACE,
        fieldSelector: FIELD_SELECTOR,
      });
      return { secret: list.items[0], resourceVersion: list.metadata?.resourceVersion ?? "" };
    } catch (err) {
      throw await apiError(`listing Secret ${NAMESPACE}/${SECRET}`, err);
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
    const watch = new this.watchClass(this.kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${NAMESPACE}/secrets`,
      {
        fieldSelector: FIELD_SELECTOR,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      (type: string, object: WatchEvent["object"]) => handlers.event({ type, object }),
      handlers.done,
    );
    return () => controller.abort();
  }
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
