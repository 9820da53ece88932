/**
 * Process entry of the agent stand-in, one per local cluster:
 *
 *     node dist/local/agent/main.js --kubeconfig FILE [--status-file FILE] \
 *       [--heartbeat-seconds N] [--agent-version V]
 *
 * The kubeconfig is a kubelet's bootstrap credential for the agent's pod; where the platform is,
 * the agent reads from what the connection installed in the cluster.
 *
 * Logs timestamped lines to stderr; stops on SIGTERM or SIGINT.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runAgent } from "./agent";

const USAGE = `usage: enforce-agent --kubeconfig FILE [--status-file FILE] [--heartbeat-seconds N]
                     [--agent-version V]
`;

class UsageError extends Error {}

/** Runs the agent with command-line flags until SIGTERM/SIGINT; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let options: Parameters<typeof runAgent>[0];
  const controller = new AbortController();
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: "string" },
        "status-file": { type: "string" },
        "heartbeat-seconds": { type: "string" },
        "agent-version": { type: "string" },
      },
    });
    if (!values.kubeconfig) throw new UsageError("--kubeconfig is required");
    let heartbeatMs: number | undefined;
    if (values["heartbeat-seconds"] !== undefined) {
      const seconds = Number(values["heartbeat-seconds"]);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new UsageError("--heartbeat-seconds must be a positive number");
      }
      heartbeatMs = Math.round(seconds * 1000);
    }
    options = {
      kubeconfigPath: values.kubeconfig,
      statusFile: values["status-file"],
      heartbeatMs,
      agentVersion: values["agent-version"],
      log,
      signal: controller.signal,
    };
  } catch (err) {
    const usage =
      err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`enforce-agent: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ""}`);
    return 2;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    log(`received ${signal}, stopping`);
    controller.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await runAgent(options);
    return 0;
  } catch (err) {
    log(`enforce-agent: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
