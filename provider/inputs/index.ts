/**
 * Validation and normalization of `EnforceClusterConnection` inputs: what the provider's
 * `check` runs before any network call.
 * @module
 */

export {
  AGENT_IMAGES,
  AGENT_IMAGE_NAMES,
  isAgentImageName,
  type AgentImage,
  type AgentImageName,
} from "./agent-images";
export {
  DURATION_FORMS,
  formatDuration,
  parseDuration,
  type DurationErrorCode,
  type DurationParseOptions,
  type DurationResult,
  type DurationUnit,
} from "./duration";
export {
  IMAGE_REFERENCE_FORM,
  parseImageReference,
  type ImageReference,
  type ImageReferenceResult,
} from "./image-ref";
export {
  inspectKubeconfig,
  readFileUtf8,
  selectContext,
  type ContextResult,
  type KubeconfigContext,
  type KubeconfigResult,
  type KubeconfigSummary,
  type ReadFile,
} from "./kubeconfig";
export * from "./properties";
export * from "./types";
export { isUidp, parseUidp, UIDP_FORM, type UidpErrorCode, type UidpResult } from "./uidp";
export { validateInputs, type ValidateOptions, type ValidationResult } from "./validate";
