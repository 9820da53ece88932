/**
 * The undici dispatcher the clients send through: a transport (an `Agent` of
 * our own, or one injected by the caller) composed with the retry interceptor.
 *
 * @module
 */
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { Agent, type Dispatcher } from "undici";
import { createRetryInterceptor, type RetryPolicy } from "./retry";

// Dispatchers that already carry our retry interceptor, so a client handed one
// (e.g. the issuer client sharing the platform client's) does not retry twice.
const withRetry = new WeakSet<Dispatcher>();

// One TLS context per extra CA for the whole process. Given `ca` itself, Node.js builds a new
// context for every connection, parsing all the root certificates again: about 0.9 MiB of
// memory (not returned to the system when freed) and 6 ms each, dozens of times in an `up`.
const contextsByCa = new Map<string, SecureContext>();

/** The shared TLS context that trusts `ca` besides Node's root certificates. */
function contextTrusting(ca: string): SecureContext {
  let context = contextsByCa.get(ca);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ca] });
    contextsByCa.set(ca, context);
  }
  return context;
}

/** Options of {@link createPlatformDispatcher}. */
export interface PlatformDispatcherOptions {
  /** Transport to send through; a new `Agent` when omitted. Not closed by us. */
  dispatcher?: Dispatcher;
  /** Extra CA certificates (PEM) to trust besides the system roots; only for our own `Agent`. */
  ca?: string;
  /** Connect timeout of our own `Agent`, in ms. */
  connectTimeoutMs: number;
  retry: RetryPolicy;
}

/** A composed dispatcher and the `Agent` it owns (to close), if any. */
export interface PlatformDispatcher {
  dispatcher: Dispatcher;
  owned: Agent | undefined;
}

/**
 * Composes the retry interceptor onto the given transport, or onto a new
 * `Agent` that trusts `ca` in addition to Node's root certificates (a bare
 * `connect.ca` would replace them).
 *
 * @throws TypeError when both `dispatcher` and `ca` are given.
 */
export function createPlatformDispatcher(options: PlatformDispatcherOptions): PlatformDispatcher {
  if (options.dispatcher && options.ca !== undefined) {
    throw new TypeError(
      "options.ca and options.dispatcher are mutually exclusive: configure the CA on the injected dispatcher",
    );
  }
  if (options.dispatcher && withRetry.has(options.dispatcher)) {
    return { dispatcher: options.dispatcher, owned: undefined };
  }
  const owned = options.dispatcher
    ? undefined
    : new Agent({
        connect: {
          timeout: options.connectTimeoutMs,
          ...(options.ca !== undefined ? { secureContext: contextTrusting(options.ca) } : {}),
        },
      });
  const base = options.dispatcher ?? (owned as Agent);
  const dispatcher = base.compose(createRetryInterceptor(options.retry));
  withRetry.add(dispatcher);
  return { dispatcher, owned };
}
