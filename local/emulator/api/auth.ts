/**
 * API authentication: `Authorization: Bearer <API token>`. A token acts for
 * one group and everything below it.
 */
import { invalidArgument, permissionDenied, unauthenticated } from "../http/errors";
import type { RequestContext } from "../http/context";
import { hashSecret } from "../secrets";
import { isRoot, isSameOrDescendantOf, isUidp } from "../uidp";

/** Who is calling. */
export interface Principal {
  /** The group the token acts for. */
  group: string;
}

/** Authenticates the API caller or throws 401. */
export function authenticate(ctx: RequestContext): Principal {
  if (ctx.bearer === undefined) {
    throw unauthenticated(
      "the request has no bearer token: send Authorization: Bearer <API token>",
    );
  }
  const group = ctx.services.store.tokens.groupOf(hashSecret(ctx.bearer));
  if (group === undefined) {
    throw unauthenticated(
      "the API token is not valid (unknown or revoked): use the token the emulator wrote to its data directory",
    );
  }
  return { group };
}

/** Checks `id` is a UIDP (400) inside the caller's group (403). `what` names it in messages. */
export function authorize(principal: Principal, id: string, what: string): void {
  if (!isUidp(id)) {
    throw invalidArgument(`${what} ${JSON.stringify(id)} is not a UIDP`);
  }
  if (!isSameOrDescendantOf(id, principal.group)) {
    throw permissionDenied(
      `the API token acts for group ${principal.group}, which does not contain ${what} ${id}: ` +
        "use a token of that group or of one of its ancestors",
    );
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * For the emulator's own endpoints (`/_emulator/v1/...`): checks the caller is on loopback and
 * holds a root group's API token (403 otherwise). `what` says what is refused, e.g. "fault
 * injection is controlled".
 */
export function authenticateRootOnLoopback(ctx: RequestContext, what: string): Principal {
  if (!LOOPBACK.test(ctx.req.socket.remoteAddress ?? "")) {
    throw permissionDenied(`${what} from loopback only`);
  }
  const principal = authenticate(ctx);
  if (!isRoot(principal.group)) {
    throw permissionDenied(`${what} only with a root group's API token`);
  }
  return principal;
}
