/**
 * Selects a kubeconfig's context and checks that it is usable before any request: a context that
 * exists, naming a cluster with a server address and a user the kubeconfig defines. Each refusal
 * names the input at fault (`kubeconfig` or `context`) and the fix.
 * @module
 */

import type {
  Cluster,
  KubeConfig,
} from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { KubeconfigError } from "./errors";

/** What the errors say about the kubeconfig: its path (never its contents) and the context asked for. */
export interface KubeconfigAbout {
  path?: string;
  context?: string;
}

/**
 * Makes `context` (else the kubeconfig's `current-context`) the current one.
 * @returns its cluster, which has a server address.
 * @throws KubeconfigError naming what is missing.
 */
export function selectContext(kc: KubeConfig, about: KubeconfigAbout): Cluster {
  const names = kc.getContexts().map((c) => c.name);
  const has = `it has: ${names.join(", ") || "none"}`;
  if (names.length === 0) {
    const fix = 'pass a kubeconfig ("kubectl config view --raw --minify" prints the current one)';
    throw refusal(
      "kubeconfig",
      `the kubeconfig defines no context, so it is not a usable kubeconfig; ${fix}`,
      { ...about, fix },
    );
  }
  if (about.context) {
    if (!kc.getContextObject(about.context)) {
      const fix = `set "context" to one of the kubeconfig's contexts`;
      throw refusal("context", `the kubeconfig has no context "${about.context}"; ${has}; ${fix}`, {
        ...about,
        fix,
      });
    }
    kc.setCurrentContext(about.context);
  }
  const name = kc.getCurrentContext();
  const context = name ? kc.getContextObject(name) : null;
  if (!context) {
    const fix = `set "context" to one of them`;
    throw refusal("context", `the kubeconfig sets no current-context; ${has}; ${fix}`, {
      ...about,
      fix,
    });
  }
  return usableCluster(kc, name, { ...about, context: name });
}

/** The current context's cluster, once it and its user are known to be defined. */
function usableCluster(kc: KubeConfig, name: string, about: KubeconfigAbout): Cluster {
  const context = kc.getContextObject(name)!;
  const fix = 'define it in the kubeconfig, or set "context" to one that names defined ones';
  if (context.user && !kc.getUser(context.user)) {
    throw refusal(
      "kubeconfig",
      `context "${name}" names user "${context.user}", which the kubeconfig does not define; ${fix}`,
      { ...about, fix },
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    const what = cluster ? "has no server address" : "is not defined in the kubeconfig";
    throw refusal(
      "kubeconfig",
      `context "${name}" names cluster "${context.cluster}", which ${what}; ${fix}`,
      { ...about, fix },
    );
  }
  return cluster;
}

function refusal(
  input: "kubeconfig" | "context",
  message: string,
  options: KubeconfigAbout & { fix: string },
): KubeconfigError {
  return new KubeconfigError(message, { ...options, input });
}
