import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { sameOrigin } from "../checks/anonymous-get";
import {
  CHECK_REQUEST_TIMEOUT_MS,
  checkCluster,
  type ClusterFacts,
  type Problem,
  type TokenSignature,
} from "../checks/cluster-checks";
import { describeKeySource } from "../checks/token-verification";
import type { Connectivity } from "../inputs/types";
import { KubeClient } from "../kube/client";
import { KubeError } from "../kube/errors";
import { kubeconfigSecrets, redactKubeconfig } from "../kube/redact";
import { checkWebhooks, renderWebhooks, type WebhookReport } from "./doctor-webhooks";

/** The command line `doctor` takes. */
export const USAGE = `usage: pulumi-enforce doctor --kubeconfig PATH [--context NAME] [--connectivity auto|public|private] [--json]

Checks that a cluster can be connected to Enforce: service account token
volume projection, the TokenRequest API, service account issuer discovery,
whether the issuer is public (reachable without credentials) or private, and
that the keys Enforce would use (the uploaded JWKS when private, the issuer's
anonymous JWKS when public) verify a token the cluster issues now. Also finds
admission webhooks (of any tool) that fail closed and whose Service has no ready
endpoint: the namespaces they block and the command that removes them.
Exit status: 0 when the cluster can be connected, 1 when a prerequisite fails or
a webhook has no backend, 2 on bad usage.
`;

/** The `--json` report. */
export interface DoctorReport {
  tokenProjection: boolean;
  issuerDiscovery: boolean;
  issuer: string;
  connectivity: string;
  signingKeyIds: string[];
  activeKeyId: string;
  anonymousDiscovery: string;
  /** Whether a token the cluster issues verifies with the keys Enforce would use. */
  tokenSignature: TokenSignature & { against: string };
  problems: Problem[];
  /** Admission webhooks that fail closed without a backend. */
  webhooks: WebhookReport;
}

/** Entry of `pulumi-enforce doctor`; writes to the given streams and returns the exit status. */
export async function doctor(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let values: {
    kubeconfig?: string;
    context?: string;
    connectivity?: string;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: "string" },
        context: { type: "string" },
        connectivity: { type: "string", default: "auto" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    err(`pulumi-enforce doctor: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    err(`pulumi-enforce doctor: --kubeconfig is required (or set KUBECONFIG)\n\n${USAGE}`);
    return 2;
  }
  if (!["auto", "public", "private"].includes(values.connectivity ?? "")) {
    err(`pulumi-enforce doctor: --connectivity must be auto, public or private\n\n${USAGE}`);
    return 2;
  }

  return diagnose(
    { kubeconfig, context: values.context, connectivity: values.connectivity as Connectivity },
    values.json ?? false,
    out,
    err,
  );
}

/** Runs the checks against the cluster and prints the report; returns the exit status. */
async function diagnose(
  source: { kubeconfig: string; context?: string; connectivity: Connectivity },
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  // What the kubeconfig holds never shows, whatever quotes it (an exec plugin's stderr).
  const redact = redactorOf(source.kubeconfig);
  let client: KubeClient;
  try {
    client = await KubeClient.load({ kubeconfig: source.kubeconfig, context: source.context });
  } catch (e) {
    err(redact(`pulumi-enforce doctor: ${e instanceof KubeError ? e.message : String(e)}\n`));
    return 2;
  }
  try {
    const [{ facts, problems }, webhooks] = await Promise.all([
      checkCluster(client, {
        connectivity: source.connectivity,
        exposeIssuerDiscovery: false,
        installRights: true,
      }),
      checkWebhooks(client.withTimeout(CHECK_REQUEST_TIMEOUT_MS)),
    ]);
    const report = toReport(facts, problems, webhooks);
    out(redact(json ? JSON.stringify(report, null, 2) + "\n" : render(client, report)));
    return problems.length || webhooks.withoutBackend.length ? 1 : 0;
  } finally {
    client.close();
  }
}

/** Replaces the kubeconfig's credentials in a text (none when the file cannot be read). */
function redactorOf(kubeconfig: string): (text: string) => string {
  let secrets: string[] = [];
  try {
    secrets = kubeconfigSecrets(fs.readFileSync(kubeconfig, "utf8"));
  } catch {
    // Unreadable: loading it fails and says so, quoting nothing of it.
  }
  return (text) => redactKubeconfig(text, secrets);
}

function toReport(facts: ClusterFacts, problems: Problem[], webhooks: WebhookReport): DoctorReport {
  return {
    tokenProjection: facts.tokenProjection && facts.tokenRequest,
    issuerDiscovery: facts.issuerDiscovery,
    issuer: facts.issuer,
    connectivity: facts.connectivity,
    signingKeyIds: facts.signingKeyIds,
    activeKeyId: facts.activeKeyId,
    anonymousDiscovery: facts.anonymousDiscovery.detail,
    tokenSignature: {
      ...facts.tokenSignature,
      against: facts.tokenSignature.keySource
        ? describeKeySource(facts.tokenSignature.keySource, facts.tokenSignature.jwksUri)
        : "",
    },
    problems,
    webhooks,
  };
}

function render(client: KubeClient, r: DoctorReport): string {
  const mark = (ok: boolean) => (ok ? "[ok]  " : "[FAIL]");
  const lines = [
    `Cluster ${client.server} (context ${client.contextName})`,
    `${mark(r.tokenProjection)} service account token volume projection and TokenRequest`,
    `${mark(r.issuerDiscovery)} service account issuer discovery${r.issuer ? `: issuer ${r.issuer}` : ""}`,
  ];
  if (r.issuerDiscovery) {
    const pub = r.connectivity === "public";
    lines.push(
      `[info] anonymous discovery: ${r.anonymousDiscovery} -> connectivity ${r.connectivity || "unknown"}` +
        (pub
          ? ""
          : " (private: the platform gets the keys uploaded, renewed every 25 days and on key rotation)"),
      `[info] signing key ids: ${r.signingKeyIds.join(", ")} (in use: ${r.activeKeyId || "unknown"})`,
      tokenSignatureLine(r.tokenSignature),
    );
  }
  lines.push(...renderWebhooks(r.webhooks));
  for (const p of r.problems) {
    lines.push("", `Problem (${p.check}): ${p.reason}`, `  Fix: ${p.remedy}`);
  }
  if (!r.problems.length && r.connectivity === "private" && !sameOrigin(r.issuer, client.server)) {
    lines.push(
      "",
      `The issuer ${r.issuer} is not served by this API server, so the cluster can be connected as private only.`,
    );
  } else if (!r.problems.length && r.connectivity === "private") {
    lines.push(
      "",
      "The cluster can be connected as private. To connect it as public instead, allow anonymous discovery:",
      "  kubectl create clusterrolebinding public-issuer-discovery --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated",
    );
  }
  lines.push(
    "",
    r.problems.length
      ? "Result: the cluster cannot be connected yet."
      : "Result: the cluster can be connected.",
  );
  if (r.webhooks.withoutBackend.length) {
    lines.push("A webhook without its backend blocks requests in this cluster: see above.");
  }
  return lines.join("\n") + "\n";
}

function tokenSignatureLine(s: DoctorReport["tokenSignature"]): string {
  switch (s.status) {
    case "verified":
      return `[ok]   token signature: verified with key ${s.kid} against ${s.against}`;
    case "failed":
      return `[FAIL] token signature: key ${s.kid || "(no kid)"} not verified against ${s.against} (see the problem below)`;
    default:
      return "[info] token signature: not checked (an earlier check failed)";
  }
}
