/**
 * The inputs of an `EnforceClusterConnection`, each described once: how it is checked, its
 * default, whether it is secret, and whether a change to it is applied in place or replaces the
 * connection, and why. Validation, the normalized inputs' type, the state's keys, `diff` and the
 * SDK all derive from {@link INPUTS}; the outputs are described beside it, in
 * `../lifecycle/properties.ts`.
 * @module
 */

import { checkAgentImages, checkEnforcerOptions, checkProfiles } from "./collections";
import {
  MISSING,
  checkClusterName,
  checkConnectivity,
  checkContext,
  checkDescription,
  checkExposeIssuerDiscovery,
  checkGroup,
  checkKubeconfigType,
  checkRegistrationTimeout,
  checkRenewAfter,
  type Fail,
} from "./scalars";
import { DEFAULTS } from "./types";

/** What a change of a property does to the connection, and why. */
export interface Update {
  /** `true`: the connection is replaced; `false`: it is updated in place. */
  replace: boolean;
  /** Why, in a sentence. */
  why: string;
}

/** A change applied in place, for the reason `why`. */
export const inPlace = (why: string): Update => ({ replace: false, why });
/** A change that replaces the connection, for the reason `why`. */
export const replaces = (why: string): Update => ({ replace: true, why });

/**
 * One input. It is optional when it has neither a `default` nor a `required` reason: left out,
 * it is left out of the checked inputs and the state too.
 */
export interface InputSpec<T> {
  /**
   * Checks a given value on its own and returns it in canonical form, or `undefined` after
   * reporting the problem.
   */
  check: (value: unknown, fail: Fail) => T | undefined;
  /**
   * A duration: its check returns `{ text, seconds }`; the text is stored under the
   * input's name and its length under `<name>Seconds`.
   */
  duration?: boolean;
  /** The value when left out. */
  default?: T;
  /** The value when left out, computed from the resource name and checked (instead of `default`). */
  defaultOf?: (resourceName: string, fail: Fail) => T | undefined;
  /** The `check` failure when a required input is left out. */
  required?: string;
  /** Secret in state and in engine messages, whatever the program passed. */
  secret?: boolean;
  /** The state key it is stored under, when that is not its name. */
  storedAs?: string;
  /** What a change does. */
  update: Update;
}

/**
 * Every input, in the order validation checks them (and reports their failures). Rules that
 * relate two inputs live in `validate.ts`.
 */
export const INPUTS = {
  kubeconfig: {
    check: checkKubeconfigType,
    required: MISSING.kubeconfig,
    secret: true,
    update: inPlace(
      "a new kubeconfig may name the same cluster (a rotated credential); a different cluster shows as a changed issuer, clusterUid or remoteId, which replace",
    ),
  },
  context: {
    check: checkContext,
    update: inPlace("another context may name the same cluster, as for kubeconfig"),
  },
  group: {
    check: checkGroup,
    required: MISSING.group,
    update: replaces("the cluster is registered anew under the other group"),
  },
  clusterName: {
    check: checkClusterName,
    defaultOf: (resourceName: string, fail: Fail) => checkClusterName(resourceName, fail, true),
    update: inPlace("a setting of the cluster's record in Enforce"),
  },
  description: {
    check: checkDescription,
    update: inPlace("a setting of the cluster's record in Enforce"),
  },
  connectivity: {
    check: checkConnectivity,
    default: DEFAULTS.connectivity,
    storedAs: "requestedConnectivity" as const,
    update: inPlace(
      "only what it resolves to counts: a different resolved connectivity (the output) replaces",
    ),
  },
  exposeIssuerDiscovery: {
    check: checkExposeIssuerDiscovery,
    default: DEFAULTS.exposeIssuerDiscovery,
    update: inPlace("the ClusterRoleBinding is applied or deleted"),
  },
  renewAfter: {
    duration: true,
    check: checkRenewAfter,
    default: DEFAULTS.renewAfter,
    update: inPlace("it moves the next renewal (renewAt), which replaces once it has passed"),
  },
  registrationTimeout: {
    duration: true,
    check: checkRegistrationTimeout,
    default: DEFAULTS.registrationTimeout,
    update: inPlace("it only bounds the next wait for registration"),
  },
  profiles: {
    check: checkProfiles,
    default: DEFAULTS.profiles,
    update: inPlace("the agent's manifests are applied again, and the cluster's record updated"),
  },
  enforcerOptions: {
    check: checkEnforcerOptions,
    default: DEFAULTS.enforcerOptions,
    update: inPlace("the agent's manifests are applied again, and the cluster's record updated"),
  },
  agentImages: {
    check: checkAgentImages,
    default: DEFAULTS.agentImages,
    update: inPlace("the agent's manifests are applied again"),
  },
} satisfies Record<string, InputSpec<unknown>>;

/** The description of the inputs, by name. */
export type Inputs = typeof INPUTS;

/** A property a user may set. */
export type InputProperty = keyof Inputs;

/** The properties a user may set, sorted. */
export const INPUT_PROPERTIES: readonly InputProperty[] = (
  Object.keys(INPUTS) as InputProperty[]
).sort();

/** Whether `name` is an input of the table. */
export function isInputProperty(name: string): name is InputProperty {
  return (INPUT_PROPERTIES as readonly string[]).includes(name);
}

/** The description of `property`, with the types of its own entry widened to the common shape. */
export function inputSpec(property: InputProperty): InputSpec<unknown> {
  return INPUTS[property];
}

/** The value a spec's check returns. */
type Checked<S> = S extends { check: (value: unknown, fail: Fail) => infer T }
  ? Exclude<T, undefined>
  : never;
/** The stored form of a checked value: a duration's text. */
type Stored<S> = S extends { duration: true } ? string : Checked<S>;
/** Whether a spec is optional: neither a default nor required. */
type IsOptional<S> = S extends { default: unknown } | { defaultOf: unknown } | { required: string }
  ? false
  : true;

/**
 * Inputs after validation, with every default applied and every value in one canonical form,
 * so that equal intent always serialises to identical JSON: keys sorted, `profiles` sorted and
 * reduced (`enforcer` already implies `observer`), durations re-spelled by `formatDuration`
 * (`"24h"` is stored as `"1d"`) with their length in seconds beside them. Plain JSON: optional
 * properties without a default are left out rather than set to `undefined`.
 */
export type NormalizedInputs = {
  -readonly [K in InputProperty as IsOptional<Inputs[K]> extends true ? never : K]: Stored<
    Inputs[K]
  >;
} & {
  -readonly [K in InputProperty as IsOptional<Inputs[K]> extends true ? K : never]?: Stored<
    Inputs[K]
  >;
} & {
  -readonly [K in InputProperty as Inputs[K] extends { duration: true }
    ? `${K}Seconds`
    : never]: number;
};

/** The key a duration input's length in seconds is kept under, next to its text. */
export function secondsKey(property: InputProperty): `${InputProperty}Seconds` {
  return `${property}Seconds`;
}

/** The keys of the durations' lengths in seconds, derived from their text, sorted. */
export const SECONDS_KEYS: readonly string[] = INPUT_PROPERTIES.filter(
  (property) => inputSpec(property).duration,
).map(secondsKey);
