/**
 * The connection's settings as the platform holds them on the cluster record (name,
 * description, profiles, enforcer options), converted both ways.
 * @module
 */

import type { EnforcerOptions, Profile } from "../inputs";
import type { Cluster, EnforcerOptions as PlatformEnforcerOptions } from "../platform";

/** The settings a connection keeps in line on its platform cluster. */
export interface ClusterSettings {
  clusterName: string;
  description: string;
  profiles: Profile[];
  enforcerOptions: EnforcerOptions;
}

/** Our enforcer options in the platform's spelling. */
export function toPlatformOptions(o: EnforcerOptions): PlatformEnforcerOptions {
  return {
    webhookFailOpen: o.webhookFailOpen,
    enableCipCache: o.enableCipCache,
    namespaceEnforcementMode: o.namespaceEnforcementMode === "opt-in" ? "OptIn" : "OptOut",
  };
}

/** The platform's cluster record as settings in this package's (normalized) spelling. */
export function settingsOf(cluster: Cluster): ClusterSettings {
  return {
    clusterName: cluster.name,
    description: cluster.description,
    // `enforcer` includes `observer`; the normalized form lists only the widest profile.
    profiles: cluster.profiles.includes("enforcer") ? ["enforcer"] : ["observer"],
    enforcerOptions: {
      enableCipCache: cluster.enforcerOptions.enableCipCache,
      namespaceEnforcementMode:
        cluster.enforcerOptions.namespaceEnforcementMode === "OptOut" ? "opt-out" : "opt-in",
      webhookFailOpen: cluster.enforcerOptions.webhookFailOpen,
    },
  };
}

/** The cluster record with `wanted` applied, or undefined when it already matches. */
export function withSettings(cluster: Cluster, wanted: ClusterSettings): Cluster | undefined {
  const next: Cluster = {
    ...cluster,
    name: wanted.clusterName,
    description: wanted.description,
    profiles: [...wanted.profiles],
    enforcerOptions: toPlatformOptions(wanted.enforcerOptions),
  };
  const current = settingsOf(cluster);
  const same =
    current.clusterName === wanted.clusterName &&
    current.description === wanted.description &&
    current.profiles.join() === wanted.profiles.join() &&
    JSON.stringify(toPlatformOptions(current.enforcerOptions)) ===
      JSON.stringify(toPlatformOptions(wanted.enforcerOptions));
  return same ? undefined : next;
}
