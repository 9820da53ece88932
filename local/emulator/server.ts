/**
 * The HTTP(S) listener: one request handler for the API and the issuer,
 * auditing every call (arrival order, status on completion), answering
 * failures with grpc-gateway status bodies, and failing calls as the fault
 * rules in force say (`faults.ts`; off unless fault injection is on).
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { RequestContext, Services } from "./http/context";
import type { FaultRule } from "./faults";
import { ApiError } from "./http/errors";
import { bearerOf, readJsonObject, sendError, sendJson } from "./http/io";
import { matchRoute } from "./http/router";
import { routes } from "./routes";
import { ABANDONED_STATUS } from "./store";

/** Listen address: loopback only. */
export const HOST = "127.0.0.1";

function internalError(services: Services, method: string, path: string, error: unknown): ApiError {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  services.logger(`internal error in ${method} ${path}: ${detail}`);
  return new ApiError(
    "Internal",
    "internal emulator error; run the emulator with NODE_DEBUG=enforce:emulator for details",
    { cause: error },
  );
}

function audit(services: Services, method: string, path: string, time: number): number | undefined {
  try {
    return services.store.audit.begin(time, method, path);
  } catch (error) {
    services.logger(`cannot audit ${method} ${path}: ${String(error)}`);
    return undefined;
  }
}

/** Records the call in the audit trail, and its status (499 when unanswered) once it closes. */
function auditCall(
  services: Services,
  method: string,
  path: string,
  time: number,
  res: http.ServerResponse,
): number | undefined {
  const seq = audit(services, method, path, time);
  res.on("close", () => {
    const status = res.headersSent ? res.statusCode : ABANDONED_STATUS;
    services.logger(`${method} ${path} -> ${status}`);
    if (seq === undefined || !services.store.isOpen) return;
    try {
      services.store.audit.finish(seq, status);
    } catch (error) {
      services.logger(`cannot audit ${method} ${path}: ${String(error)}`);
    }
  });
  return seq;
}

async function handle(
  services: Services,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const method = req.method ?? "GET";
  const target = req.url ?? "/";
  const cut = target.indexOf("?");
  const path = cut < 0 ? target : target.slice(0, cut);
  const now = services.options.now();
  const seq = auditCall(services, method, path, now.getTime(), res);
  let body: Promise<Record<string, unknown>> | undefined;
  const ctx: RequestContext = {
    services,
    req,
    path,
    query: new URLSearchParams(cut < 0 ? "" : target.slice(cut + 1)),
    seq: seq ?? 0,
    now,
    bearer: bearerOf(req),
    json: () => (body ??= readJsonObject(req)),
  };
  const fault = services.faults?.take(method, path, now.getTime());
  if (fault && !fault.afterHandling) {
    inflict(services, fault, req, res);
    return;
  }
  try {
    const { route, rest } = matchRoute(routes, method, path);
    const reply = await route.handler(ctx, rest);
    if (fault) inflict(services, fault, req, res);
    else sendJson(res, reply.status ?? 200, reply.body);
  } catch (error) {
    if (res.headersSent) return;
    if (fault) inflict(services, fault, req, res);
    else
      sendError(
        res,
        error instanceof ApiError ? error : internalError(services, method, path, error),
      );
  }
}

const FAULT_STATUS = { 429: "ResourceExhausted", 500: "Internal", 503: "Unavailable" } as const;

/** Fails a call as fault rule `fault` says: an error answer, or a connection dropped unanswered. */
function inflict(
  services: Services,
  fault: FaultRule,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  services.logger(`fault rule ${fault.id} fails ${req.method} ${req.url?.split("?")[0]}`);
  if ("drop" in fault.action) {
    req.socket.destroy();
    return;
  }
  const { status, retryAfterSeconds } = fault.action;
  sendError(
    res,
    new ApiError(FAULT_STATUS[status], `injected fault (rule ${fault.id})`, { retryAfterSeconds }),
  );
}

/** Creates the server: HTTPS with `tls`, plain HTTP without. */
export function createServer(
  services: Services,
  tls: { key: string | Buffer; cert: string | Buffer } | undefined,
): http.Server {
  const listener: http.RequestListener = (req, res) => {
    void handle(services, req, res);
  };
  return tls
    ? https.createServer({ key: tls.key, cert: tls.cert }, listener)
    : http.createServer(listener);
}

/** Listens on 127.0.0.1:`port` (0 picks a free port); resolves with the port. */
export function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(port, HOST, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, lets calls in progress finish for up to `graceMs`, then drops connections. */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
