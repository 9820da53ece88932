/**
 * What one CLI run asked of the clusters and of the emulator: the provider's requests in each
 * API server's audit log (its User-Agent is `pulumi-enforce`, the anonymous probe's too), and
 * the calls in the emulator's audit trail, between two cursors.
 * @module
 */

import * as fs from "node:fs";
import type { BenchEnv } from "./environment";
import { emulatorAuditClient } from "../tests/support/env";
import { USER_AGENT } from "../provider/kube/client";

/** One request as the API server's audit log records it (the fields read here). */
interface AuditEvent {
  verb: string;
  requestURI: string;
  userAgent?: string;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** The provider's requests to one cluster during a run. */
export interface ClusterRequests {
  cluster: string;
  count: number;
  /**
   * Waves of requests: a request that reached the server after every earlier one had been
   * answered starts a new wave. Requests sent together but over new connections (a TLS
   * handshake first) may arrive a round trip after one sent on an open connection, and then
   * count as a wave of their own.
   */
  waves: number;
  /** From the first request's arrival to the last answer, in seconds. */
  spanSeconds: number;
  /** Arrival time of the first request (ms since the epoch), to order the clusters. */
  firstMs: number;
  /** Each request as `VERB path`, in arrival order. */
  requests: string[];
}

/** Byte offsets into every cluster's audit log and the emulator's trail sequence. */
export interface RequestCursor {
  offsets: number[];
  emulatorSeq: number;
}

/** Where every log and the trail end now. */
export async function requestCursor(env: BenchEnv): Promise<RequestCursor> {
  const offsets = env.ready.clusters.map((c) => fs.statSync(c.auditLog).size);
  const audit = emulatorAuditClient(env.ready);
  try {
    const entries = await audit.audit();
    return { offsets, emulatorSeq: entries.at(-1)?.seq ?? 0 };
  } finally {
    await audit.close();
  }
}

/** The provider's requests to each cluster written after `cursor`. */
export function clusterRequestsSince(env: BenchEnv, cursor: RequestCursor): ClusterRequests[] {
  return env.ready.clusters.map((c, i) => {
    const events = readFrom(c.auditLog, cursor.offsets[i] ?? 0).filter(
      (e) => e.userAgent === USER_AGENT,
    );
    return { cluster: c.name, ...summarize(events) };
  });
}

/**
 * The emulator's calls after `cursor`, by `METHOD path` (query left out), without the agent
 * stand-ins' own (registration, token exchange, heartbeats, discovery) and the trail reads.
 */
export async function emulatorCallsSince(
  env: BenchEnv,
  cursor: RequestCursor,
): Promise<Record<string, number>> {
  const audit = emulatorAuditClient(env.ready);
  try {
    const calls: Record<string, number> = {};
    for (const e of await audit.audit(cursor.emulatorSeq)) {
      const p = e.path.split("?")[0] ?? "";
      if (/^\/(auth|sts|\.well-known|_emulator)\//.test(p)) continue;
      const key = `${e.method} ${p}`;
      calls[key] = (calls[key] ?? 0) + 1;
    }
    return calls;
  } finally {
    await audit.close();
  }
}

function readFrom(file: string, offset: number): AuditEvent[] {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf
      .toString("utf8")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as AuditEvent);
  } finally {
    fs.closeSync(fd);
  }
}

function summarize(events: AuditEvent[]): Omit<ClusterRequests, "cluster"> {
  const timed = events
    .map((e) => ({
      e,
      at: Date.parse(e.requestReceivedTimestamp),
      done: Date.parse(e.stageTimestamp),
    }))
    .sort((a, b) => a.at - b.at);
  let waves = 0;
  let answered = -Infinity;
  for (const { at, done } of timed) {
    if (at > answered) waves++;
    answered = Math.max(answered, done);
  }
  const first = timed[0]?.at ?? 0;
  const last = timed.reduce((m, t) => Math.max(m, t.done), first);
  return {
    count: timed.length,
    waves,
    spanSeconds: (last - first) / 1000,
    firstMs: first,
    requests: timed.map(({ e }) => `${e.verb.toUpperCase()} ${e.requestURI.split("?")[0]}`),
  };
}
