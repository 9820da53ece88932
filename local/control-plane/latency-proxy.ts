/**
 * A loopback TCP proxy that adds network latency and nothing else: each chunk read from one side
 * is written to the other `latencyMs` after it arrived, in order, each direction on its own timer
 * queue (chunks that arrive together leave together, so it is a delay, not a bandwidth cap). It
 * never looks at the bytes, so TLS passes through untouched. Half-close, resets and refused
 * upstream connections reach the other side after the same delay. What a direction holds is
 * bounded: past `maxBufferedBytes` it stops reading until the other side has taken its bytes.
 *
 * What it cannot add: the TCP handshake's round trip. A client's `connect` completes at once on
 * loopback, so a cold connection costs one round trip less than over a real network.
 * @module
 */
import * as net from "node:net";
import { performance } from "node:perf_hooks";

/** Options of {@link startLatencyProxy}. */
export interface LatencyProxyOptions {
  /** The port on `targetHost` each connection is forwarded to. */
  targetPort: number;
  /** @default "127.0.0.1" */
  targetHost?: string;
  /** Delay added to each direction, in milliseconds (0: forward at once). */
  latencyMs: number;
  /** The port to listen on, on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /**
   * Bytes one direction of a connection may hold, delayed or not yet written, before it stops
   * reading from its source. @default 4 MiB (80 MiB/s at 50 ms, well above what this carries)
   */
  maxBufferedBytes?: number;
}

/** A running proxy. */
export interface LatencyProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Client connections open now. */
  connections(): number;
  /** Bytes held now across connections and directions, delayed or not yet written. */
  bufferedBytes(): number;
  /** Stops listening and destroys every connection at once. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BUFFERED = 4 << 20;

/** One thing that reaches the other side: bytes, the end of the stream, or a reset. */
interface Item {
  due: number;
  chunk?: Buffer;
  end?: true;
  reset?: true;
}

/**
 * One direction of a connection: what `src` sends, `dst` receives `latencyMs` later. One timer at
 * a time, set for the oldest item; items are due in arrival order, so order is kept.
 */
class DelayLine {
  private readonly queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private ended = false;
  private stopped = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly latencyMs: number,
    private readonly maxBytes: number,
  ) {
    src.on("data", (chunk: Buffer) => this.push({ due: 0, chunk }));
    src.on("end", () => {
      this.ended = true;
      this.push({ due: 0, end: true });
    });
    // An error, or a close the peer did not announce with an end, resets the other side.
    src.on("close", (hadError) => {
      if (hadError || !this.ended) this.push({ due: 0, reset: true });
    });
    src.on("error", () => undefined); // reported through "close"
    dst.on("drain", () => this.resumeIfRoom());
  }

  /** Bytes this direction holds: delayed, or handed to `dst` and not yet written. */
  buffered(): number {
    return this.queuedBytes + (this.dst.destroyed ? 0 : this.dst.writableLength);
  }

  /** Drops what is queued and the timer (the connection is being torn down). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private push(item: Item): void {
    if (this.stopped) return;
    item.due = performance.now() + this.latencyMs;
    if (this.latencyMs === 0 && this.head === this.queue.length) {
      this.deliver(item);
    } else {
      this.queue.push(item);
      this.queuedBytes += item.chunk?.length ?? 0;
      this.schedule();
    }
    if (!this.paused && this.buffered() >= this.maxBytes && !this.src.destroyed) {
      this.paused = true;
      this.src.pause();
    }
  }

  private schedule(): void {
    const next = this.queue[this.head];
    if (this.timer || !next) return;
    // Timers may fire a fraction of a millisecond early: flush() checks and sets another.
    const wait = Math.max(0, Math.ceil(next.due - performance.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const now = performance.now();
    for (let next = this.queue[this.head]; next && next.due <= now; next = this.queue[this.head]) {
      this.head++;
      this.queuedBytes -= next.chunk?.length ?? 0;
      this.deliver(next);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.schedule();
    this.resumeIfRoom();
  }

  private deliver(item: Item): void {
    if (this.dst.destroyed) return;
    if (item.chunk) this.dst.write(item.chunk);
    else if (item.end) this.dst.end();
    else if (item.reset) this.dst.resetAndDestroy();
  }

  private resumeIfRoom(): void {
    if (this.paused && this.buffered() < this.maxBytes && !this.src.destroyed) {
      this.paused = false;
      this.src.resume();
    }
  }
}

/** A client connection and its upstream one, with a delay line each way. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  lines: [DelayLine, DelayLine];
}

/** The buffer bound `opts` asks for, once the options are checked. */
function checkOptions(opts: LatencyProxyOptions): number {
  if (!Number.isFinite(opts.latencyMs) || opts.latencyMs < 0) {
    throw new TypeError(`latencyMs must be a number of milliseconds >= 0, got ${opts.latencyMs}`);
  }
  const maxBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`maxBufferedBytes must be a positive whole number, got ${maxBytes}`);
  }
  return maxBytes;
}

/** Connects `client` to the target through two delay lines; the pair is in `pairs` until both close. */
function pairUp(
  client: net.Socket,
  opts: LatencyProxyOptions,
  maxBytes: number,
  pairs: Set<Pair>,
): void {
  const upstream = net.connect({
    host: opts.targetHost ?? "127.0.0.1",
    port: opts.targetPort,
    allowHalfOpen: true,
    noDelay: true,
  });
  const pair: Pair = {
    client,
    upstream,
    lines: [
      new DelayLine(client, upstream, opts.latencyMs, maxBytes),
      new DelayLine(upstream, client, opts.latencyMs, maxBytes),
    ],
  };
  pairs.add(pair);
  const forget = () => {
    if (!client.destroyed || !upstream.destroyed) return;
    pair.lines.forEach((l) => l.stop());
    pairs.delete(pair);
  };
  client.on("close", forget);
  upstream.on("close", forget);
}

/**
 * Starts a proxy on 127.0.0.1 that forwards each connection to `targetHost:targetPort` with
 * `latencyMs` added each way. The upstream connection is made when a client connects; when it is
 * refused, the client is reset after the delay.
 * @throws TypeError when `latencyMs` or `maxBufferedBytes` is not usable.
 */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  const maxBytes = checkOptions(opts);
  const pairs = new Set<Pair>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) =>
    pairUp(client, opts, maxBytes, pairs),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => pairs.size,
    bufferedBytes: () =>
      [...pairs].reduce((n, p) => n + p.lines[0].buffered() + p.lines[1].buffered(), 0),
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const p of pairs) {
        p.lines.forEach((l) => l.stop());
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return closed;
    },
  };
}

/**
 * Puts a latency proxy in front of a local server on demand: the environment's API servers and
 * emulators with `enforce-local up --latency-ms N`. Resolves with the port clients use instead.
 */
export type Front = (targetPort: number) => Promise<number>;

/** The proxies of one environment, all with the same delay, closed together. */
export class LatencyProxies {
  private readonly proxies: LatencyProxy[] = [];

  /** @param latencyMs the delay each proxy adds to each direction */
  constructor(readonly latencyMs: number) {}

  /** Starts a proxy in front of `targetPort` on 127.0.0.1 and returns its port. */
  readonly front: Front = async (targetPort) => {
    const proxy = await startLatencyProxy({ targetPort, latencyMs: this.latencyMs });
    this.proxies.push(proxy);
    return proxy.port;
  };

  /** Closes every proxy and its connections. */
  async close(): Promise<void> {
    await Promise.all(this.proxies.splice(0).map((p) => p.close()));
  }
}
