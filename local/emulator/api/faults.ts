/**
 * `/_emulator/v1/faults`: the control of fault injection (`../faults.ts`), an endpoint of the
 * emulator only, for tests. Root-group API token, loopback peers only, and answered only when
 * the emulator was started with `--fault-injection`.
 *
 * - `POST` a rule: `{"status": 429|500|503, "retryAfterSeconds"?: n}` or `{"drop": true}`, with
 *   optional `"method"`, `"path"` (a prefix), `"times"` (the next n matching calls),
 *   `"forSeconds"` and `"afterHandling"` (fail after the call took effect). Answers the rule.
 * - `GET` the rules in force, each with its `hits`.
 * - `DELETE` every rule: `{"cleared": n}`.
 */
import { authenticateRootOnLoopback } from "./auth";
import type { FaultAction, FaultRule, FaultSpec } from "../faults";
import type { Reply, RequestContext, Route } from "../http/context";
import { failedPrecondition, invalidArgument } from "../http/errors";
import { optionalBoolean, optionalString } from "../http/validate";

const PATH = "/_emulator/v1/faults";
const STATUSES: ReadonlySet<number> = new Set([429, 500, 503]);

/** The rules of this emulator, after checking that the caller may set them. */
function rulesOf(ctx: RequestContext) {
  const rules = ctx.services.faults;
  if (!rules) {
    throw failedPrecondition(
      "fault injection is off: start the emulator with --fault-injection (enforce-local up --fault-injection)",
    );
  }
  authenticateRootOnLoopback(ctx, "fault injection is controlled");
  return rules;
}

/** A positive whole number field; undefined when absent. */
function optionalCount(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw invalidArgument(`${field} must be a whole number of at least 1`);
  }
  return value as number;
}

function actionOf(body: Record<string, unknown>): FaultAction {
  const drop = optionalBoolean(body, "drop");
  const status = body.status;
  if (drop === true) {
    if (status !== undefined) throw invalidArgument("give either status or drop, not both");
    return { drop: true };
  }
  if (typeof status !== "number" || !STATUSES.has(status)) {
    throw invalidArgument('status must be 429, 500 or 503 (or give "drop": true)');
  }
  const retryAfterSeconds = optionalCount(body, "retryAfterSeconds");
  return { status: status as 429 | 500 | 503, retryAfterSeconds };
}

/** Parses a rule from the body; `nowMs` starts its `forSeconds`. */
export function faultSpecOf(body: Record<string, unknown>, nowMs: number): FaultSpec {
  const method = optionalString(body, "method")?.toUpperCase();
  const path = optionalString(body, "path");
  if (path !== undefined && !path.startsWith("/")) throw invalidArgument("path must start with /");
  const forSeconds = optionalCount(body, "forSeconds");
  return {
    action: actionOf(body),
    method,
    path,
    times: optionalCount(body, "times"),
    untilMs: forSeconds === undefined ? undefined : nowMs + forSeconds * 1000,
    afterHandling: optionalBoolean(body, "afterHandling") ?? false,
  };
}

function describe(rule: FaultRule): Record<string, unknown> {
  const { untilMs, ...rest } = rule;
  return untilMs === undefined ? rest : { ...rest, until: new Date(untilMs).toISOString() };
}

async function addFault(ctx: RequestContext): Promise<Reply> {
  const rules = rulesOf(ctx);
  const rule = rules.add(faultSpecOf(await ctx.json(), ctx.now.getTime()));
  ctx.services.logger(`fault rule ${rule.id} set: ${JSON.stringify(describe(rule))}`);
  return { body: describe(rule) };
}

function listFaults(ctx: RequestContext): Reply {
  return { body: { items: rulesOf(ctx).list(ctx.now.getTime()).map(describe) } };
}

function clearFaults(ctx: RequestContext): Reply {
  const cleared = rulesOf(ctx).clear();
  ctx.services.logger(`fault rules cleared (${cleared})`);
  return { body: { cleared } };
}

export const faultRoutes: Route[] = [
  { method: "POST", path: PATH, handler: addFault },
  { method: "GET", path: PATH, handler: listFaults },
  { method: "DELETE", path: PATH, handler: clearFaults },
];
