/** The IAM area: group invites and identities. */
import type { Route } from "./context";
import { identityRoutes } from "./iam-identities";
import { inviteRoutes } from "./iam-invites";

export const iamRoutes: Route[] = [...inviteRoutes, ...identityRoutes];
