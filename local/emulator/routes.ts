/** Every route the emulator serves, by area. */
import { auditRoutes } from "./audit";
import type { Route } from "./context";
import { iamRoutes } from "./iam";
import { issuerRoutes } from "./issuer";
import { tenantRoutes } from "./tenant";

export const routes: Route[] = [...iamRoutes, ...tenantRoutes, ...issuerRoutes, ...auditRoutes];
