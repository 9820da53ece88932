/**
 * `doctor`'s webhook check: fail-closed admission webhooks, from any tool, whose Service has no
 * ready endpoint. Each blocks what it matches in the namespaces it selects (every pod created
 * there, for the enforcer's) until its backend returns or its configuration is deleted.
 * @module
 */

import { findOrphanedWebhooks, type OrphanedWebhook } from "../install/webhooks";
import type { KubeClient } from "../kube/client";

/** The webhook part of the `--json` report. */
export interface WebhookReport {
  /** Fail-closed webhooks without a backend; empty when none. */
  withoutBackend: OrphanedWebhook[];
  /** Why the check could not run (e.g. no right to list webhook configurations), else absent. */
  error?: string;
}

/** Runs the check; a failure to read is reported, not thrown. */
export async function checkWebhooks(kube: KubeClient): Promise<WebhookReport> {
  try {
    return { withoutBackend: await findOrphanedWebhooks(kube) };
  } catch (e) {
    return { withoutBackend: [], error: (e as Error).message };
  }
}

/** The text lines of the report. */
export function renderWebhooks(r: WebhookReport): string[] {
  if (r.error) return [`[info] admission webhooks: not checked: ${r.error}`];
  if (r.withoutBackend.length === 0) {
    return ["[ok]   admission webhooks: every fail-closed webhook has a ready backend"];
  }
  const lines = [
    `[FAIL] admission webhooks: ${r.withoutBackend.length} fail-closed webhook(s) without a backend`,
  ];
  for (const w of r.withoutBackend) {
    const covered = w.namespaces.length ? w.namespaces.join(", ") : "none at the moment";
    lines.push(
      "",
      `Problem (webhookBackend): ${w.kind} ${w.configuration} (webhook ${w.name}) calls ` +
        `${w.reason.replace(/^(Service \S+) /, "$1, which ")}; with failurePolicy Fail the API server ` +
        `refuses every request it matches in the namespaces it selects: ${covered}.`,
      `  Fix: if the tool that installed it is gone, remove it: ${w.removeCommand}` +
        " (otherwise bring its backend back).",
    );
  }
  return lines;
}
