/**
 * Run in a fresh Node.js process by `./client-setup` (argument: a kubeconfig file): what a new
 * provider process pays before and for its first requests to a cluster. Prints one JSON object
 * of milliseconds on stdout.
 * @module
 */

import { performance } from "node:perf_hooks";

async function measure(kubeconfig: string): Promise<Record<string, number>> {
  const t0 = performance.now();
  await import("../provider/impl.js");
  const t1 = performance.now();
  const { KubeClient } = await import("../provider/kube/client.js");
  const client = await KubeClient.load({ kubeconfig });
  const t2 = performance.now();
  const get = () => client.get("/api/v1/namespaces/kube-system");
  await get();
  const t3 = performance.now();
  await get();
  const t4 = performance.now();
  await Promise.all([get(), get(), get(), get()]);
  const t5 = performance.now();
  await Promise.all([get(), get(), get(), get()]);
  const t6 = performance.now();
  client.close();
  return {
    loadImplementationMs: t1 - t0,
    loadClientMs: t2 - t1,
    firstRequestMs: t3 - t2,
    secondRequestMs: t4 - t3,
    fourConcurrentFirstMs: t5 - t4,
    fourConcurrentAgainMs: t6 - t5,
  };
}

measure(process.argv[2] ?? "").then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
