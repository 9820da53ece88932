/**
 * One {@link KubeClient} per kubeconfig and context in a provider process, so that a
 * connection's `check` and the `create` or `update` after it share one keep-alive connection
 * pool (one TLS handshake, not one per operation) and one credential cache (an exec plugin runs
 * once until its credential expires).
 * @module
 */

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { isInlineKubeconfig } from "../inputs/kubeconfig";
import { KubeClient, type KubeconfigSource } from "./client";

/** How many clusters' clients are kept; a fleet's stack has tens. */
const MAX_CLIENTS = 64;

/** Shared clients by kubeconfig and context; the least recently used is let go past the bound. */
export class KubeClientPool {
  private readonly clients = new Map<string, Promise<KubeClient>>();

  /** The shared client of `source`, loaded on first use. A load that fails is not kept. */
  connect(source: KubeconfigSource): Promise<KubeClient> {
    const key = keyOf(source);
    let client = this.clients.get(key);
    if (client) this.clients.delete(key);
    else {
      client = KubeClient.load(source, { shared: true });
      client.catch(() => this.clients.delete(key));
    }
    this.clients.set(key, client);
    if (this.clients.size > MAX_CLIENTS) {
      // Let go without closing: an operation may still be using it; its idle sockets do not
      // keep the process alive and the server closes them.
      const [oldest] = this.clients.keys();
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    return client;
  }
}

/**
 * A digest of the context and the kubeconfig: its contents, and for a file its path as well
 * (relative paths inside resolve against it), so that a rewritten file gets a new client. The
 * digest keeps the pool from holding a second copy of the contents.
 */
function keyOf(source: KubeconfigSource): string {
  const hash = createHash("sha256").update(`${source.context ?? ""}\0${source.kubeconfig}`);
  if (!isInlineKubeconfig(source.kubeconfig)) {
    try {
      hash.update(`\0${fs.readFileSync(source.kubeconfig, "utf8")}`);
    } catch {
      // Unreadable: the load fails and says why, and the failed load is not kept.
    }
  }
  return hash.digest("hex");
}

/** The provider process's pool. */
export const sharedKubeClients = new KubeClientPool();
