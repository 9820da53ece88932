import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { isInlineKubeconfig } from "../inputs/kubeconfig";
import { selectContext } from "./context";
import {
  KubeconfigError,
  KubeResponseTooLargeError,
  KubeStatusError,
  KubeUnreachableError,
} from "./errors";
import { ExecDeadline } from "./exec-deadline";
import { loadKubeConfigClass } from "./kubeconfig-loader";

/** Where a kubeconfig comes from: its contents (YAML or JSON) or a file path. */
export interface KubeconfigSource {
  kubeconfig: string;
  context?: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Defaults to JSON; server-side apply uses `application/apply-patch+yaml`. */
  contentType?: string;
  query?: Record<string, string | undefined>;
  /** Statuses that are an answer rather than an error (e.g. 404 when probing). */
  accept?: number[];
  /**
   * How long the whole request may take, connecting and the TLS handshake included, before it
   * fails as unanswered. @default the client's {@link KubeClient.timeoutMs}
   */
  timeoutMs?: number;
  /**
   * The largest answer read, in bytes: a larger one is a {@link KubeResponseTooLargeError}.
   * @default {@link MAX_ANSWER_BYTES}
   */
  maxBytes?: number;
}

/**
 * The largest answer any request reads unless it says otherwise: far above what the lists this
 * package makes return, a bound on what a broken or hostile server can make it hold.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export interface Response<T> {
  status: number;
  body: T;
}

/**
 * The User-Agent of every request this package sends to a cluster, so that API server audit logs
 * (and the tests that count requests in them) can tell its calls from other clients using the
 * same credentials.
 */
export const USER_AGENT = "pulumi-enforce";

/** The default deadline of one request (see {@link RequestOptions.timeoutMs}). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** What the views of one client ({@link KubeClient.withTimeout}) share: credentials and sockets. */
interface Link {
  readonly kc: KubeConfig;
  readonly execDeadline: ExecDeadline;
  agent?: https.Agent;
}

/**
 * A small Kubernetes client over one keep-alive connection pool. Credentials
 * of every kind a kubeconfig can hold (client certificates, bearer tokens,
 * token files, exec plugins) are resolved by @kubernetes/client-node's
 * `KubeConfig`; this class only sends requests, so `check` can reuse one
 * connection for all its calls and run independent ones concurrently.
 */
export class KubeClient {
  private constructor(
    private readonly link: Link,
    readonly server: string,
    readonly contextName: string,
    /** The cluster's CA (PEM) when the kubeconfig names one. */
    readonly caPem: string | undefined,
    /** Owned by a `KubeClientPool`: `close` leaves its connections open for the next user. */
    private readonly shared: boolean,
    /** The deadline of each request that sets none. */
    readonly timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /**
   * This client with another default deadline per request: the same credentials and connection
   * pool. Its `close` leaves them open, they belong to this client.
   */
  withTimeout(timeoutMs: number): KubeClient {
    const { link, server, contextName, caPem } = this;
    return new KubeClient(link, server, contextName, caPem, true, timeoutMs);
  }

  /**
   * Loads a kubeconfig (contents or path) and selects the context. A `shared` client is one a
   * `KubeClientPool` hands out: its users' `close` does not close it.
   */
  static async load(
    source: KubeconfigSource,
    opts: { shared?: boolean } = {},
  ): Promise<KubeClient> {
    const kc = new (await loadKubeConfigClass())();
    const inline = isInlineKubeconfig(source.kubeconfig);
    // What the errors name: the path, never the contents.
    const about = { path: inline ? undefined : source.kubeconfig, context: source.context };
    try {
      if (inline) kc.loadFromString(source.kubeconfig);
      else kc.loadFromFile(source.kubeconfig);
    } catch (err) {
      const where = inline ? "the kubeconfig contents" : source.kubeconfig;
      throw new KubeconfigError(`cannot load ${where}: ${(err as Error).message.split("\n")[0]}`, {
        ...about,
        cause: err,
      });
    }
    const cluster = selectContext(kc, about);
    let caPem: string | undefined;
    if (cluster.caData) caPem = Buffer.from(cluster.caData, "base64").toString("utf8");
    else if (cluster.caFile) caPem = readCaFile(cluster.caFile, about);
    const server = cluster.server.replace(/\/+$/, "");
    const link = { kc, execDeadline: new ExecDeadline(kc, kc.getCurrentUser()) };
    return new KubeClient(link, server, kc.getCurrentContext(), caPem, opts.shared ?? false);
  }

  /** Headers and TLS material for one request; exec plugins refresh expired credentials here. */
  private async auth(): Promise<{ headers: http.OutgoingHttpHeaders; agent: https.Agent }> {
    const opts: https.RequestOptions = {};
    const link = this.link;
    await link.execDeadline.bound(link.kc.applyToHTTPSOptions(opts));
    if (!link.agent) {
      link.agent = new https.Agent({
        keepAlive: true,
        maxSockets: 6,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        servername: opts.servername,
        // Only when the kubeconfig says insecure-skip-tls-verify.
        rejectUnauthorized: opts.rejectUnauthorized ?? true,
      });
    }
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders),
      "user-agent": USER_AGENT,
    };
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    return { headers, agent: link.agent };
  }

  /** Sends one request; resolves with the parsed JSON body (or text), rejects with a KubeError. */
  async request<T = unknown>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<Response<T>> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, v);
    const { headers, agent } = await this.auth();
    const call = `${method} ${url.pathname}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] = opts.contentType ?? "application/json";
    }
    // The JWKS is served as application/jwk-set+json only.
    headers.accept = "application/json, application/jwk-set+json;q=0.9, */*;q=0.8";
    const answer = await this.exchange(
      url,
      call,
      payload,
      {
        method,
        headers,
        agent: url.protocol === "http:" ? undefined : agent,
        maxBytes: opts.maxBytes ?? MAX_ANSWER_BYTES,
      },
      opts.timeoutMs ?? this.timeoutMs,
    );
    return responseOf<T>(call, answer, opts.accept);
  }

  /**
   * Sends the request and reads the whole answer, whatever its status. A kept-alive connection
   * that the server closed just as the request went out is reset before any answer: the
   * request is sent once more, on a new connection.
   * @throws KubeUnreachableError when no complete answer arrived within `timeoutMs` (refused,
   * cut off, or silent: connecting and the TLS handshake count).
   * @throws KubeResponseTooLargeError when the answer passes `options.maxBytes`.
   */
  private async exchange(
    url: URL,
    call: string,
    payload: string | undefined,
    options: ExchangeOptions,
    timeoutMs: number,
  ): Promise<Answer> {
    const deadline: Deadline = { ms: timeoutMs, at: Date.now() + timeoutMs };
    try {
      return await this.exchangeOnce(url, call, payload, options, deadline);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return this.exchangeOnce(url, call, payload, options, deadline);
    }
  }

  private exchangeOnce(
    url: URL,
    call: string,
    payload: string | undefined,
    { maxBytes, ...options }: ExchangeOptions,
    deadline: Deadline,
  ): Promise<Answer> {
    const mod = url.protocol === "http:" ? http : https;
    return new Promise((resolveAnswer, rejectAnswer) => {
      const clock: { timer?: NodeJS.Timeout } = {};
      const resolve = (answer: Answer) => (clearTimeout(clock.timer), resolveAnswer(answer));
      const reject = (err: Error) => (clearTimeout(clock.timer), rejectAnswer(err));
      const req = mod.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size <= maxBytes) return void chunks.push(c);
          reject(new KubeResponseTooLargeError(call, this.server, maxBytes));
          req.destroy();
        });
        res.on("error", (err) =>
          reject(new KubeUnreachableError(this.server, err.message, { cause: err })),
        );
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      // The deadline covers everything from here to the last byte, unlike the socket's own idle
      // timeout, which a server that stalls the handshake or trickles bytes can outlast.
      clock.timer = setTimeout(
        () => {
          const detail = `${call} did not answer within ${seconds(deadline.ms)}`;
          reject(new KubeUnreachableError(this.server, detail));
          req.destroy();
        },
        Math.max(deadline.at - Date.now(), 1),
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && err.code === "ECONNRESET") return reject(new StaleSocketError());
        reject(new KubeUnreachableError(this.server, describeNetError(err), { cause: err }));
      });
      req.end(payload);
    });
  }

  get<T = unknown>(path: string, opts?: RequestOptions): Promise<Response<T>> {
    return this.request<T>("GET", path, opts);
  }

  post<T = unknown>(path: string, body: unknown, opts?: RequestOptions): Promise<Response<T>> {
    return this.request<T>("POST", path, { ...opts, body });
  }

  delete<T = unknown>(path: string, opts?: RequestOptions): Promise<Response<T>> {
    return this.request<T>("DELETE", path, opts);
  }

  /** Server-side apply of one object under `fieldManager`, taking over conflicting fields. */
  apply<T = unknown>(path: string, object: unknown, fieldManager: string): Promise<Response<T>> {
    return this.request<T>("PATCH", path, {
      body: JSON.stringify(object),
      contentType: "application/apply-patch+yaml",
      query: { fieldManager, force: "true" },
    });
  }

  /** Closes its connections, unless the client is shared (see {@link KubeClient.load}). */
  close(): void {
    if (!this.shared) this.link.agent?.destroy();
  }
}

/** The options of one exchange: the request's, the bound of its answer and its deadline. */
type ExchangeOptions = https.RequestOptions & { maxBytes: number };

/** A reused connection was reset before the request got an answer: send it again. */
class StaleSocketError extends Error {}

/** When a request (its retry on a fresh connection included) must have been answered. */
interface Deadline {
  /** Its length, as messages say it. */
  ms: number;
  /** The epoch millisecond it ends. */
  at: number;
}

/** An answer as read, before its status is judged. */
interface Answer {
  status: number;
  statusMessage: string | undefined;
  text: string;
}

/**
 * The body parsed as JSON (text when it is not JSON, e.g. /readyz), resolved for a 2xx status
 * or one the caller accepts.
 * @throws KubeStatusError for any other status, with the Status object's reason and message.
 */
function responseOf<T>(call: string, answer: Answer, accept: number[] | undefined): Response<T> {
  const { status, text } = answer;
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // non-JSON answers (e.g. /readyz) stay text
  }
  if (status >= 200 && status < 300) return { status, body: body as T };
  if (accept?.includes(status)) return { status, body: body as T };
  const s = (typeof body === "object" && body ? body : {}) as { reason?: string; message?: string };
  throw new KubeStatusError(call, status, s.reason ?? answer.statusMessage ?? "", s.message ?? "");
}

/** The PEM of the cluster's `certificate-authority` file. */
function readCaFile(file: string, about: { path?: string; context?: string }): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const fix =
      "point certificate-authority at the cluster's CA file, or inline it as certificate-authority-data";
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new KubeconfigError(
      `the kubeconfig's certificate-authority file ${file} cannot be read (${why}); ${fix}`,
      { ...about, fix, cause: err },
    );
  }
}

/** `10 s`, as messages say a deadline. */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function describeNetError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused (is the cluster running?)";
    case "ENOTFOUND":
      return "the host name does not resolve";
    case "ETIMEDOUT":
      return "the connection timed out";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      return `the server's TLS certificate is not trusted (${err.code}); the kubeconfig's certificate-authority does not match`;
    default:
      return err.message;
  }
}
