/**
 * pulumi-enforce: connect Kubernetes clusters to Enforce declaratively, one
 * {@link EnforceClusterConnection} per cluster.
 * @module
 */

export {
  EnforceClusterConnection,
  type AgentImageName,
  type AgentImagesArgs,
  type Connectivity,
  type EnforceClusterConnectionArgs,
  type EnforcerOptionsArgs,
  type NamespaceEnforcementMode,
  type PlatformSettingsOutput,
  type Profile,
  type ResolvedConnectivity,
} from "./connection";
