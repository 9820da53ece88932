/**
 * `GET /_emulator/v1/audit?after=<seq>`: every call in arrival order. The
 * answer stops before the first call still being answered, so a poller that
 * continues from the last seq it saw never misses one. The audit call itself
 * appears in later answers.
 */
import { authenticate } from "./auth";
import type { Reply, RequestContext, Route } from "../http/context";
import { invalidArgument, permissionDenied } from "../http/errors";
import { formatTimestamp } from "../http/time";
import { isRoot } from "../uidp";

function listAudit(ctx: RequestContext): Reply {
  const principal = authenticate(ctx);
  if (!isRoot(principal.group)) {
    throw permissionDenied("the audit trail is readable only with a root group's API token");
  }
  const afterText = ctx.query.get("after") || "0";
  if (!/^\d{1,15}$/.test(afterText)) {
    throw invalidArgument(`after ${JSON.stringify(afterText)} is not a sequence number`);
  }
  const items = [];
  for (const call of ctx.services.store.audit.after(Number(afterText))) {
    if (call.seq === ctx.seq) continue;
    if (call.status === undefined) break;
    items.push({
      seq: call.seq,
      time: formatTimestamp(call.time),
      method: call.method,
      path: call.path,
      status: call.status,
    });
  }
  return { body: { items } };
}

export const auditRoutes: Route[] = [
  { method: "GET", path: "/_emulator/v1/audit", handler: listAudit },
];
