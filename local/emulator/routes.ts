/** Every route the emulator serves, by area: IAM (invites, identities), tenant, issuer, audit, faults, tokens. */
import { auditRoutes } from "./api/audit";
import { faultRoutes } from "./api/faults";
import { tokenRoutes } from "./api/tokens";
import { tenantRoutes } from "./api/clusters";
import { identityRoutes } from "./api/identities";
import { inviteRoutes } from "./api/invites";
import type { Route } from "./http/context";
import { issuerRoutes } from "./issuer/issuer";

export const routes: Route[] = [
  ...inviteRoutes,
  ...identityRoutes,
  ...tenantRoutes,
  ...issuerRoutes,
  ...auditRoutes,
  ...faultRoutes,
  ...tokenRoutes,
];
