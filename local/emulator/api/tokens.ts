/**
 * `POST /_emulator/v1/tokens`: mints another API token for the caller's own group and answers
 * `{"token": "..."}`, an endpoint of the emulator only. Tests rotate `enforce:token` with it: the
 * new token acts for the same group, and the old one stays valid. Root-group API token, loopback
 * peers only. Only the token's hash is stored, and the token is never logged.
 */
import { authenticateRootOnLoopback } from "./auth";
import { createToken } from "../bootstrap";
import type { Reply, RequestContext, Route } from "../http/context";

function mintToken(ctx: RequestContext): Reply {
  const { group } = authenticateRootOnLoopback(ctx, "API tokens are minted");
  const token = createToken(ctx.services.store, group, ctx.now.getTime());
  ctx.services.logger(`API token minted for group ${group}`);
  return { body: { token } };
}

export const tokenRoutes: Route[] = [
  { method: "POST", path: "/_emulator/v1/tokens", handler: mintToken },
];
