/** `DELETE` of one object: the same steps for clusters, identities and invites. */
import { authenticate, authorize } from "./auth";
import type { Reply, RequestContext } from "../http/context";
import { notFound } from "../http/errors";
import type { Store } from "../store";

/**
 * Deletes object `id` with `remove` after checking the caller's group contains it (400/403, as
 * {@link authorize}); 404 with `missing` when there was none. `what` names it in messages.
 */
export function deleteOwned(
  ctx: RequestContext,
  id: string,
  what: string,
  remove: (store: Store) => boolean,
  missing = `${what} ${id} does not exist`,
): Reply {
  authorize(authenticate(ctx), id, what);
  const { store } = ctx.services;
  if (!store.transaction(() => remove(store))) throw notFound(missing);
  return { body: {} };
}
