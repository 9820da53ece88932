import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { freePort } from "../../../local/control-plane/ports";
import {
  startLatencyProxy,
  type LatencyProxy,
  type LatencyProxyOptions,
} from "../../../local/control-plane/latency-proxy";
import { waitFor } from "../../../local/control-plane/wait";

/**
 * The latency proxy against real loopback servers: an echo server (which also echoes the end of
 * the stream) and one that never reads. Times are taken in event handlers; waits have deadlines.
 */

const N = 40;
/** How late a delivery may be on a loaded machine and still count as "N ms". */
const MARGIN = 60;

let echo: net.Server;
/** The echo server's side of each connection, newest last. */
const echoSides: net.Socket[] = [];
const proxies: LatencyProxy[] = [];
const clients: net.Socket[] = [];

beforeAll(async () => {
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    echoSides.push(s);
    s.on("error", () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  echoSides.splice(0).forEach((s) => s.destroy());
});

afterAll(() => new Promise<void>((r) => echo.close(() => r())));

const echoPort = () => (echo.address() as net.AddressInfo).port;

async function proxy(opts: Partial<LatencyProxyOptions> = {}): Promise<LatencyProxy> {
  const p = await startLatencyProxy({ targetPort: echoPort(), latencyMs: N, ...opts });
  proxies.push(p);
  return p;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Not half-open: a client that is sent an end closes, as most clients do.
    const s = net.connect({ port, host: "127.0.0.1", noDelay: true });
    clients.push(s);
    s.once("connect", () => {
      s.off("error", reject);
      s.on("error", () => undefined); // a reset is seen as "close" below
      resolve(s);
    });
    s.once("error", reject);
  });
}

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Collects what `s` receives; `at(n)` resolves with the time the first n bytes were in. */
function receiver(s: net.Socket) {
  const chunks: Buffer[] = [];
  let total = 0;
  const waiting: Array<{ n: number; resolve: (t: number) => void }> = [];
  s.on("data", (c: Buffer) => {
    const t = performance.now();
    chunks.push(c);
    total += c.length;
    for (const w of waiting.filter((x) => x.n <= total)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(t);
    }
  });
  return {
    at: (n: number) =>
      within(
        10000,
        `${n} bytes back`,
        new Promise<number>((resolve) => {
          if (total >= n) resolve(performance.now());
          else waiting.push({ n, resolve });
        }),
      ),
    bytes: () => Buffer.concat(chunks),
  };
}

const event = (s: net.Socket, name: "end" | "close") =>
  within(5000, `"${name}"`, new Promise<number>((r) => s.once(name, () => r(performance.now()))));

test("a round trip takes at least twice the delay, and not much more", async () => {
  const p = await proxy();
  const client = await connect(p.port);
  const back = receiver(client);
  const rtts: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const sent = performance.now();
    client.write(`ping-${i}`);
    rtts.push((await back.at(6 * i)) - sent);
  }
  expect(back.bytes().toString()).toBe("ping-1ping-2ping-3ping-4ping-5");
  for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(2 * N);
  expect(Math.min(...rtts)).toBeLessThan(2 * N + MARGIN);
});

test("chunks that arrive together are each delayed once, not one after another", async () => {
  const p = await proxy();
  const client = await connect(p.port);
  const back = receiver(client);
  const size = 8;
  const sentAt: number[] = [];
  for (let i = 0; i < 20; i++) {
    sentAt.push(performance.now());
    client.write(String(i).padStart(size, "0"));
    // The sender's pace (not a wait for an outcome): 20 chunks within about 2N.
    await new Promise((r) => setTimeout(r, 4));
  }
  const latencies = await Promise.all(
    sentAt.map(async (t, i) => (await back.at(size * (i + 1))) - t),
  );
  for (const l of latencies) expect(l).toBeGreaterThanOrEqual(2 * N);
  // In series, the last would be about 20 delays late.
  expect(latencies.at(-1)).toBeLessThan(2 * N + MARGIN);
});

test("a large transfer comes back whole and in order, through a small buffer", async () => {
  const p = await proxy({ maxBufferedBytes: 1 << 20 });
  const client = await connect(p.port);
  const back = receiver(client);
  const data = randomBytes(8 << 20);
  const ended = event(client, "end");
  client.end(data);
  await back.at(data.length);
  await ended;
  expect(back.bytes().equals(data)).toBe(true);
});

test("when the other side does not read, the proxy stops reading instead of buffering", async () => {
  const held: net.Socket[] = [];
  const stalled = net.createServer({ pauseOnConnect: true }, (s) => held.push(s));
  await new Promise<void>((r) => stalled.listen(0, "127.0.0.1", r));
  try {
    const max = 256 << 10;
    const p = await proxy({
      targetPort: (stalled.address() as net.AddressInfo).port,
      maxBufferedBytes: max,
    });
    const client = await connect(p.port);
    client.write(randomBytes(64 << 20));
    // Once every buffer on the way is full, nothing moves: the sender keeps the rest.
    let last = -1;
    await waitFor(
      "the transfer to stall",
      async () => {
        const pending = client.writableLength;
        const stalledNow = pending === last;
        last = pending;
        return stalledNow ? true : undefined;
      },
      { timeoutMs: 20000, intervalMs: 300 },
    );
    expect(client.writableLength).toBeGreaterThan(0);
    // At most the bound and one chunk read before the pause took effect.
    expect(p.bufferedBytes()).toBeLessThanOrEqual(max + (64 << 10));
  } finally {
    held.forEach((s) => s.destroy());
    await new Promise<void>((r) => stalled.close(() => r()));
  }
});

test("a half-close reaches the other side after the delay, which can still answer", async () => {
  const p = await proxy();
  const client = await connect(p.port);
  const back = receiver(client);
  const sent = performance.now();
  client.end("last words");
  // The echo server answers, then ends in turn when it sees the end.
  expect((await event(client, "end")) - sent).toBeGreaterThanOrEqual(2 * N);
  expect(back.bytes().toString()).toBe("last words");
});

const server = () => echoSides.at(-1)!;
const client = (c: net.Socket) => c;
test.each([
  ["the client closes", client, server, (s: net.Socket) => s.destroy()],
  ["the client resets", client, server, (s: net.Socket) => s.resetAndDestroy()],
  ["the server closes", server, client, (s: net.Socket) => s.destroy()],
  ["the server resets", server, client, (s: net.Socket) => s.resetAndDestroy()],
])("when %s, the other side closes", async (_, closer, other, close) => {
  const p = await proxy();
  const c = await connect(p.port);
  const back = receiver(c);
  c.write("hello");
  await back.at(5);
  const peer = other(c);
  const peerClosed = event(peer, "close");
  close(closer(c));
  await peerClosed;
  expect(peer.destroyed).toBe(true);
  await waitFor(
    "the proxy to forget the connection",
    async () => (p.connections() === 0 ? true : undefined),
    { timeoutMs: 5000, intervalMs: 20 },
  );
});

test("close() ends every connection on both sides and stops listening", async () => {
  const p = await proxy();
  const a = await connect(p.port);
  const b = await connect(p.port);
  const back = receiver(b);
  b.write("x");
  await back.at(1);
  await waitFor(
    "both connections to reach the server",
    async () => (echoSides.length === 2 ? true : undefined),
    { timeoutMs: 5000, intervalMs: 20 },
  );
  const closing = [a, b, ...echoSides].map((s) => event(s, "close"));
  await p.close();
  await Promise.all(closing);
  expect(p.connections()).toBe(0);
  await expect(connect(p.port)).rejects.toThrow(/ECONNREFUSED/);
});

test("a refused upstream connection resets the client after the delay", async () => {
  const p = await proxy({ targetPort: await freePort() });
  const started = performance.now();
  const client = await connect(p.port);
  const closedAt = await event(client, "close");
  expect(closedAt - started).toBeGreaterThanOrEqual(N);
});

test("latencyMs and maxBufferedBytes are checked", async () => {
  await expect(startLatencyProxy({ targetPort: 1, latencyMs: -1 })).rejects.toThrow(
    /latencyMs must be a number of milliseconds >= 0, got -1/,
  );
  await expect(
    startLatencyProxy({ targetPort: 1, latencyMs: 1, maxBufferedBytes: 0 }),
  ).rejects.toThrow(/maxBufferedBytes must be a positive whole number, got 0/);
});
