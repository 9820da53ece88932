/**
 * The whole of `check` before any network call: every input checked on its own (`scalars.ts`,
 * `collections.ts`, `kubeconfig.ts`), then the rules that relate inputs, then defaults applied
 * and the result put in canonical form.
 * @module
 */

import { checkAgentImages, checkEnforcerOptions, checkProfiles } from "./collections";
import { parseDuration } from "./duration";
import { closestName, containsUnknown, quoteList, sortKeys } from "./internal/values";
import { inspectKubeconfig, readFileUtf8, selectContext, type ReadFile } from "./kubeconfig";
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
  type Check,
  type CheckedDuration,
  type Fail,
} from "./scalars";
import {
  DEFAULTS,
  INPUT_PROPERTIES,
  UNKNOWN_VALUE,
  type CheckFailure,
  type InputProperty,
  type NormalizedInputs,
} from "./types";

/** Options of {@link validateInputs}. */
export interface ValidateOptions {
  /** The Pulumi resource name, which `clusterName` defaults to. */
  resourceName: string;
  /**
   * Reads the kubeconfig file when `kubeconfig` is a path (a local read, the only I/O here).
   * @default readFileUtf8
   */
  readFile?: ReadFile;
}

/** Outcome of {@link validateInputs}. */
export interface ValidationResult {
  /**
   * The inputs with defaults applied, in canonical form; meaningful only when `failures` is
   * empty. A property named in `unknown` holds the value exactly as received instead (the unknown
   * sentinel, or an object or list containing it), and so does any value derived from it
   * (`renewAfterSeconds` is then the sentinel too), so the engine keeps it unknown. That happens
   * only during preview: `create` and `update` always receive known values.
   */
  inputs: NormalizedInputs;
  /** Every problem found, in a stable order; empty when the inputs are valid. */
  failures: CheckFailure[];
  /** Sorted names of the properties that are not known yet; they were not checked. */
  unknown: string[];
}

/** Inputs the engine adds to every dynamic resource; they belong to no user. */
const ENGINE_PROPERTIES = new Set(["__provider"]);

function isInputProperty(name: string): name is InputProperty {
  return (INPUT_PROPERTIES as readonly string[]).includes(name);
}

function defaultDuration(text: string): CheckedDuration {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`invalid built-in default duration ${text}`);
  return { text, seconds: parsed.seconds };
}

/**
 * Checks and normalizes the raw inputs of an `EnforceClusterConnection`. Pure apart from reading
 * the kubeconfig file when given a path; never throws for bad input. Null counts as left out.
 * Reasons name the property, say what is wrong and how to fix it, and never contain kubeconfig
 * contents (they may name a path, a context or a cluster).
 */
export function validateInputs(
  raw: Record<string, unknown>,
  opts: ValidateOptions,
): ValidationResult {
  const failures: CheckFailure[] = [];
  const fail: Fail = (property, reason) => failures.push({ property, reason });

  for (const key of Object.keys(raw).sort()) {
    if (ENGINE_PROPERTIES.has(key) || isInputProperty(key)) continue;
    const guess = closestName(key, INPUT_PROPERTIES);
    fail(
      key,
      `Unknown property '${key}'.${guess === undefined ? "" : ` Did you mean '${guess}'?`} Known properties: ${quoteList(INPUT_PROPERTIES)}. Remove it or correct its name.`,
    );
  }

  // Sort each property into left out, not yet known (skipped), or given.
  const unknown: InputProperty[] = [];
  const given: Partial<Record<InputProperty, unknown>> = {};
  for (const property of INPUT_PROPERTIES) {
    const value = raw[property];
    if (value === undefined || value === null) continue;
    if (containsUnknown(value, UNKNOWN_VALUE)) unknown.push(property);
    else given[property] = value;
  }
  const isUnknown = (property: InputProperty) => unknown.includes(property);
  const isGiven = (property: InputProperty) => Object.hasOwn(given, property);
  const run = <T>(property: InputProperty, check: Check<T>): T | undefined =>
    isGiven(property) ? check(given[property], fail) : undefined;

  for (const property of ["kubeconfig", "group"] as const) {
    if (!isGiven(property) && !isUnknown(property)) fail(property, MISSING[property]);
  }

  const kubeconfig = run("kubeconfig", checkKubeconfigType);
  const context = run("context", checkContext);
  if (kubeconfig !== undefined) {
    const inspected = inspectKubeconfig(kubeconfig, opts.readFile ?? readFileUtf8);
    // A context that failed its own check, or is not known yet, cannot be looked up.
    const contextUsable = !isUnknown("context") && (!isGiven("context") || context !== undefined);
    if (!inspected.ok) fail("kubeconfig", inspected.reason);
    else if (contextUsable) {
      const selected = selectContext(inspected.summary, context);
      if (!selected.ok) fail(selected.property, selected.reason);
    }
  }

  const group = run("group", checkGroup);
  const clusterName = isGiven("clusterName")
    ? checkClusterName(given.clusterName, fail)
    : isUnknown("clusterName")
      ? undefined
      : checkClusterName(opts.resourceName, fail, true);
  const description = run("description", checkDescription);
  const connectivity = run("connectivity", checkConnectivity);
  const exposeIssuerDiscovery = run("exposeIssuerDiscovery", checkExposeIssuerDiscovery);

  // Only a private connection uploads an identity that needs renewing.
  let renewAfter: CheckedDuration | undefined;
  if (isGiven("renewAfter") && connectivity === "public") {
    fail(
      "renewAfter",
      `'renewAfter' only applies to private connections, whose uploaded identity expires; with connectivity "public" nothing is renewed. Remove 'renewAfter', or set connectivity to "private" or "auto".`,
    );
  } else {
    renewAfter = run("renewAfter", checkRenewAfter);
  }
  const registrationTimeout = run("registrationTimeout", checkRegistrationTimeout);
  const profiles = run("profiles", checkProfiles);
  const enforcerOptions = run("enforcerOptions", checkEnforcerOptions);
  const agentImages = run("agentImages", checkAgentImages);

  // An unknown property passes through as received; otherwise the checked value or the default.
  const pick = <T>(property: InputProperty, checked: T | undefined, fallback: T): unknown =>
    isUnknown(property) ? raw[property] : (checked ?? fallback);
  const optional = (property: InputProperty, checked: string | undefined) =>
    isUnknown(property)
      ? { [property]: raw[property] }
      : checked === undefined
        ? {}
        : { [property]: checked };
  const duration = (property: "renewAfter" | "registrationTimeout", checked?: CheckedDuration) => {
    if (isUnknown(property)) {
      return { [property]: raw[property], [`${property}Seconds`]: UNKNOWN_VALUE };
    }
    const { text, seconds } = checked ?? defaultDuration(DEFAULTS[property]);
    return { [property]: text, [`${property}Seconds`]: seconds };
  };

  const inputs = {
    agentImages: pick("agentImages", agentImages, {}),
    clusterName: pick("clusterName", clusterName, opts.resourceName),
    connectivity: pick("connectivity", connectivity, DEFAULTS.connectivity),
    ...optional("context", context),
    ...optional("description", description),
    enforcerOptions: pick("enforcerOptions", enforcerOptions, { ...DEFAULTS.enforcerOptions }),
    exposeIssuerDiscovery: pick(
      "exposeIssuerDiscovery",
      exposeIssuerDiscovery,
      DEFAULTS.exposeIssuerDiscovery,
    ),
    group: pick("group", group, ""),
    kubeconfig: pick("kubeconfig", kubeconfig, ""),
    profiles: pick("profiles", profiles, [...DEFAULTS.profiles]),
    ...duration("registrationTimeout", registrationTimeout),
    ...duration("renewAfter", renewAfter),
  };
  // Checked values are already built in key order; sorting still matters for values passed
  // through while unknown, and keeps the output canonical as properties are added. The cast is
  // exact for known inputs; for unknown ones see ValidationResult.inputs.
  return { inputs: sortKeys(inputs) as NormalizedInputs, failures, unknown };
}
