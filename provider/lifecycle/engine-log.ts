/**
 * Progress messages shown by the Pulumi engine next to the resource. A dynamic provider's own
 * stdout and stderr are logged at debug level only (hidden by default since Pulumi 3.143), so
 * messages go to the engine's `Log` RPC instead, the way `pulumi.log` does in programs. The
 * dynamic-provider host is started with the engine's address as its first argument but does not
 * connect to it; this module does, through the gRPC client and protocol classes that
 * `@pulumi/pulumi` ships.
 * @module
 */

import { createRequire } from "node:module";

/** Sends one message; `transient` ones replace each other in the resource's status column. */
export type EngineLog = (message: string, transient: boolean) => void;

interface EngineModules {
  grpc: {
    credentials: { createInsecure(): unknown };
  };
  engrpc: { EngineClient: new (addr: string, creds: unknown) => EngineClient };
  engproto: {
    LogRequest: new () => LogRequest;
    LogSeverity: { INFO: number };
  };
}

interface EngineClient {
  log(req: LogRequest, done: (err: Error | null) => void): void;
  close(): void;
}

interface LogRequest {
  setSeverity(s: number): void;
  setMessage(m: string): void;
  setUrn(u: string): void;
  setEphemeral(e: boolean): void;
}

let client: EngineClient | null | undefined;
let modules: EngineModules | undefined;

/**
 * A logger bound to the resource `urn` ("" for the stack), or undefined when this process was
 * not started by the engine (tests, the `doctor` CLI).
 */
export function engineLog(urn: string, argv: string[] = process.argv): EngineLog | undefined {
  if (client === undefined) client = connect(argv[2]);
  const c = client;
  if (!c || !modules) return undefined;
  const proto = modules.engproto;
  return (message, transient) => {
    const req = new proto.LogRequest();
    req.setSeverity(proto.LogSeverity.INFO);
    req.setMessage(message);
    req.setUrn(urn);
    req.setEphemeral(transient);
    // Progress is best effort: a message the engine did not take is not worth failing for.
    c.log(req, () => undefined);
  };
}

function connect(address: string | undefined): EngineClient | null {
  // The host's argument is the engine's address: "127.0.0.1:PORT" (or "[::1]:PORT").
  if (!address || !/^(\[[0-9a-f:]+\]|[\w.-]+):\d+$/i.test(address)) return null;
  try {
    const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
    modules = {
      grpc: fromPulumi("@grpc/grpc-js") as EngineModules["grpc"],
      engrpc: fromPulumi("./proto/engine_grpc_pb.js") as EngineModules["engrpc"],
      engproto: fromPulumi("./proto/engine_pb.js") as EngineModules["engproto"],
    };
    return new modules.engrpc.EngineClient(address, modules.grpc.credentials.createInsecure());
  } catch {
    return null;
  }
}
