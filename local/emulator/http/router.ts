/** Matching a request to a route, grpc-gateway style: `{id=**}` tails may contain slashes. */
import { ApiError, invalidArgument } from "./errors";
import type { Route } from "./context";

/** The matched route and the decoded remainder of the path. */
export interface Match {
  route: Route;
  rest: string;
}

function decode(rest: string): string {
  try {
    return decodeURIComponent(rest);
  } catch {
    throw invalidArgument("the request path is not valid percent-encoding");
  }
}

/** Finds the route for `method` and `path`; throws NotFound, or Unimplemented (501) for a known path with another method. */
export function matchRoute(routes: Route[], method: string, path: string): Match {
  let pathMatched = false;
  for (const route of routes) {
    const rest = route.prefix
      ? path.startsWith(route.path) && path.length > route.path.length
        ? path.slice(route.path.length)
        : undefined
      : path === route.path
        ? ""
        : undefined;
    if (rest === undefined) continue;
    pathMatched = true;
    if (route.method === method) return { route, rest: decode(rest) };
  }
  if (pathMatched) throw new ApiError("Unimplemented", "Method Not Allowed");
  throw new ApiError("NotFound", "Not Found");
}
