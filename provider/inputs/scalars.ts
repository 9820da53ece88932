/**
 * Checks for the single-valued inputs, each on its own: type, form and range. Rules that relate
 * two inputs live in `validate.ts`. Every check reports through `fail` and returns the
 * normalized value, or undefined when the value was rejected.
 * @module
 */

import { formatDuration, parseDuration } from "./duration";
import { quoteList, typeName } from "./values";
import { CONNECTIVITIES, DEFAULTS, type Connectivity } from "./types";
import { parseUidp } from "./uidp";

/** Records a failure of `property`. */
export type Fail = (property: string, reason: string) => void;

/** A check of one input. */
export type Check<T> = (value: unknown, fail: Fail) => T | undefined;

/** A duration in both spellings stored in state. */
export interface CheckedDuration {
  text: string;
  seconds: number;
}

const MINUTE = 60;
const DAY = 86_400;
/** The platform's default and maximum lifetime of an identity with static keys. */
const MAX_IDENTITY_LIFETIME = 30 * DAY;

/** `typeof` check that reports `'<property>' must be <a type>, got <type>. <fix>`. */
function typed<T>(
  property: string,
  kind: "string" | "boolean",
  fix: string,
): (value: unknown, fail: Fail) => value is T {
  return (value, fail): value is T => {
    if (typeof value === kind) return true;
    fail(property, `'${property}' must be a ${kind}, got ${typeName(value)}. ${fix}`);
    return false;
  };
}

const KUBECONFIG_FIX =
  "Pass the kubeconfig contents (YAML or JSON), e.g. a cluster resource's kubeconfig output, or the path of a kubeconfig file.";

/** Type check only; the contents are checked by `inspectKubeconfig`. */
export const checkKubeconfigType: Check<string> = (value, fail) =>
  typed<string>("kubeconfig", "string", KUBECONFIG_FIX)(value, fail) ? value : undefined;

/** The reasons for missing required inputs, in the `Missing required property 'x'` style. */
export const MISSING: Record<"kubeconfig" | "group", string> = {
  kubeconfig: `Missing required property 'kubeconfig'. ${KUBECONFIG_FIX}`,
  group:
    "Missing required property 'group'. Pass the id (UIDP) of the Enforce group to connect the cluster to.",
};

export const checkContext: Check<string> = (value, fail) => {
  const fix =
    "Pass the name of a context in the kubeconfig, or leave 'context' out to use its current-context.";
  if (!typed<string>("context", "string", fix)(value, fail)) return undefined;
  if (value !== "") return value;
  fail("context", `'context' is empty. ${fix}`);
  return undefined;
};

export const checkGroup: Check<string> = (value, fail) => {
  const fix = "Pass the id (UIDP) of the Enforce group, not its name.";
  if (!typed<string>("group", "string", fix)(value, fail)) return undefined;
  const result = parseUidp(value);
  if (result.ok) return value;
  fail("group", `'group' is not a group id: ${result.reason} ${fix}`);
  return undefined;
};

const CLUSTER_NAME_RULE =
  "A cluster name is 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)";

/** What is wrong with a cluster name, or undefined when it is valid. */
function clusterNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (name.length > 63) return `it is ${name.length} characters long`;
  const bad = name.search(/[^a-z0-9-]/);
  if (bad !== -1) return `${JSON.stringify(name[bad])} at position ${bad + 1} is not allowed`;
  if (name.startsWith("-") || name.endsWith("-")) return "it starts or ends with '-'";
  return undefined;
}

/** The nearest valid cluster name, to show as an example fix. */
function suggestClusterName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
  return label === "" ? "my-cluster" : label;
}

/**
 * Checks `clusterName`, or the resource name it defaults to (`fromResourceName`), which Pulumi
 * allows to hold characters a cluster name cannot.
 */
export function checkClusterName(
  value: unknown,
  fail: Fail,
  fromResourceName = false,
): string | undefined {
  if (!typed<string>("clusterName", "string", `Pass a string. ${CLUSTER_NAME_RULE}.`)(value, fail))
    return undefined;
  const problem = clusterNameProblem(value);
  if (problem === undefined) return value;
  const subject = fromResourceName
    ? `'clusterName' defaults to the resource name ${JSON.stringify(value)}, which is not a valid cluster name`
    : `'clusterName' ${JSON.stringify(value)} is not a valid cluster name`;
  const fix = fromResourceName ? "Pass 'clusterName' explicitly" : "Pass a valid 'clusterName'";
  fail(
    "clusterName",
    `${subject}: ${problem}. ${CLUSTER_NAME_RULE}. ${fix}, e.g. ${JSON.stringify(suggestClusterName(value))}.`,
  );
  return undefined;
}

const MAX_DESCRIPTION = 256;

export const checkDescription: Check<string> = (value, fail) => {
  if (!typed<string>("description", "string", "Pass a short text.")(value, fail)) return undefined;
  // Count code points, not UTF-16 units, so that the limit means characters.
  const length = [...value].length;
  if (length <= MAX_DESCRIPTION) return value;
  fail(
    "description",
    `'description' is ${length} characters long, more than ${MAX_DESCRIPTION}. Shorten it to at most ${MAX_DESCRIPTION} characters.`,
  );
  return undefined;
};

export const checkConnectivity: Check<Connectivity> = (value, fail) => {
  const fix = `Use "public" when the cluster's issuer discovery endpoints are reachable without authentication, "private" when they are not, or "auto" (the default) to detect it.`;
  if (!typed<string>("connectivity", "string", fix)(value, fail)) return undefined;
  if ((CONNECTIVITIES as readonly string[]).includes(value)) return value as Connectivity;
  fail(
    "connectivity",
    `'connectivity' ${JSON.stringify(value)} is not one of ${quoteList(CONNECTIVITIES)}. ${fix}`,
  );
  return undefined;
};

export const checkExposeIssuerDiscovery: Check<boolean> = (value, fail) =>
  typed<boolean>("exposeIssuerDiscovery", "boolean", "Pass true or false.")(value, fail)
    ? value
    : undefined;

/** Checks a duration input against an inclusive range, explaining each bound. */
function checkDuration(
  property: string,
  bounds: { min: number; whyMin: string; max: number; whyMax: string; default: string },
): Check<CheckedDuration> {
  return (value, fail) => {
    const fix = `The default is "${bounds.default}".`;
    if (
      !typed<string>(
        property,
        "string",
        `Pass a duration such as "${bounds.default}".`,
      )(value, fail)
    ) {
      return undefined;
    }
    const parsed = parseDuration(value);
    if (!parsed.ok) {
      fail(property, `'${property}' is not a valid duration: ${parsed.reason}`);
      return undefined;
    }
    const { seconds } = parsed;
    const [min, max] = [formatDuration(bounds.min), formatDuration(bounds.max)];
    if (seconds < bounds.min) {
      fail(
        property,
        `'${property}' is ${formatDuration(seconds)}, shorter than the minimum of ${min}: ${bounds.whyMin}. Use at least "${min}". ${fix}`,
      );
      return undefined;
    }
    if (seconds > bounds.max) {
      fail(
        property,
        `'${property}' is ${formatDuration(seconds)}, longer than the maximum of ${max}: ${bounds.whyMax}. Use at most "${max}". ${fix}`,
      );
      return undefined;
    }
    return { text: formatDuration(seconds), seconds };
  };
}

export const checkRenewAfter = checkDuration("renewAfter", {
  min: 5,
  whyMin:
    "each renewal registers the agent with a new identity, which takes it a few seconds (short values suit tests only: every preview after the window proposes a renewal)",
  max: MAX_IDENTITY_LIFETIME,
  whyMax:
    "30 days is the platform's maximum lifetime of a private cluster's identity, so it would expire before being renewed",
  default: DEFAULTS.renewAfter,
});

export const checkRegistrationTimeout = checkDuration("registrationTimeout", {
  min: 10,
  whyMin: "the agent cannot start and register in less time",
  max: 60 * MINUTE,
  whyMax:
    "a registration that has not happened by then is stuck, and waiting longer only delays the error",
  default: DEFAULTS.registrationTimeout,
});
