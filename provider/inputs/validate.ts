/**
 * The whole of `check` before any network call: every input of `properties.ts` checked on its
 * own, the rules that relate inputs, then defaults applied and the result put in canonical form.
 * @module
 */

import { parseDuration } from "./duration";
import { sortKeys } from "../util/json";
import { closestName, containsUnknown, quoteList } from "./values";
import { inspectKubeconfig, readFileUtf8, selectContext, type ReadFile } from "./kubeconfig";
import {
  INPUTS,
  INPUT_PROPERTIES,
  inputSpec,
  isInputProperty,
  secondsKey,
  type InputProperty,
  type NormalizedInputs,
} from "./properties";
import type { CheckedDuration, Fail } from "./scalars";
import { UNKNOWN_VALUE, type CheckFailure } from "./types";

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
  rejectUnknownProperties(raw, fail);
  const received = sortReceived(raw);
  requireInputs(received, fail);
  const checked = checkEachInput(received, opts, fail);
  return {
    inputs: normalized(raw, checked, received.unknown),
    failures,
    unknown: received.unknown,
  };
}

/** The inputs as received, sorted into given and not yet known; left-out ones are in neither. */
interface Received {
  given: Partial<Record<InputProperty, unknown>>;
  /** In the table's order. */
  unknown: InputProperty[];
  isGiven(property: InputProperty): boolean;
  isUnknown(property: InputProperty): boolean;
}

/** Fails every property that is not an input (nor the engine's), suggesting the closest name. */
function rejectUnknownProperties(raw: Record<string, unknown>, fail: Fail): void {
  for (const key of Object.keys(raw).sort()) {
    if (ENGINE_PROPERTIES.has(key) || isInputProperty(key)) continue;
    const guess = closestName(key, INPUT_PROPERTIES);
    fail(
      key,
      `Unknown property '${key}'.${guess === undefined ? "" : ` Did you mean '${guess}'?`} Known properties: ${quoteList(INPUT_PROPERTIES)}. Remove it or correct its name.`,
    );
  }
}

/** Sorts each input into left out (undefined or null), not yet known (skipped), or given. */
function sortReceived(raw: Record<string, unknown>): Received {
  const unknown: InputProperty[] = [];
  const given: Partial<Record<InputProperty, unknown>> = {};
  for (const property of INPUT_PROPERTIES) {
    const value = raw[property];
    if (value === undefined || value === null) continue;
    if (containsUnknown(value, UNKNOWN_VALUE)) unknown.push(property);
    else given[property] = value;
  }
  return {
    given,
    unknown,
    isGiven: (property) => Object.hasOwn(given, property),
    isUnknown: (property) => unknown.includes(property),
  };
}

/** Fails each required input that is neither given nor unknown, with the table's reason. */
function requireInputs(received: Received, fail: Fail): void {
  for (const property of INPUT_PROPERTIES) {
    const { required } = inputSpec(property);
    if (required !== undefined && !received.isGiven(property) && !received.isUnknown(property)) {
      fail(property, required);
    }
  }
}

/**
 * Each input on its own, in the table's order: the given value checked, or a computed default
 * (`clusterName` from the resource name) when left out. A rule that relates inputs runs in place
 * of a property's own check (`instead`) or after it (`after`).
 * @returns the checked values; a rejected or unknown input has none.
 */
function checkEachInput(
  received: Received,
  opts: ValidateOptions,
  fail: Fail,
): Partial<Record<InputProperty, unknown>> {
  const checked: Partial<Record<InputProperty, unknown>> = {};
  const rules = relatingRules(received, checked, opts, fail);
  for (const property of Object.keys(INPUTS) as InputProperty[]) {
    const spec = inputSpec(property);
    if (!rules.instead[property]?.()) {
      if (received.isGiven(property))
        checked[property] = spec.check(received.given[property], fail);
      else if (!received.isUnknown(property) && spec.defaultOf) {
        checked[property] = spec.defaultOf(opts.resourceName, fail);
      }
    }
    rules.after[property]?.();
  }
  return checked;
}

/**
 * The rules that relate inputs. They read `checked` as {@link checkEachInput} fills it, so each
 * runs once the inputs it depends on have been checked.
 */
function relatingRules(
  received: Received,
  checked: Partial<Record<InputProperty, unknown>>,
  opts: ValidateOptions,
  fail: Fail,
): Rules {
  return {
    instead: { renewAfter: () => renewAfterOnlyWhenPrivate(received, checked, fail) },
    after: { context: () => contextInKubeconfig(received, checked, opts, fail) },
  };
}

/**
 * Only a private connection uploads an identity that needs renewing: a `renewAfter` given with
 * connectivity "public" fails, and is not checked on its own.
 * @returns true when the rule failed `renewAfter`.
 */
function renewAfterOnlyWhenPrivate(
  received: Received,
  checked: Partial<Record<InputProperty, unknown>>,
  fail: Fail,
): boolean {
  if (!received.isGiven("renewAfter") || checked.connectivity !== "public") return false;
  fail(
    "renewAfter",
    `'renewAfter' only applies to private connections, whose uploaded identity expires; with connectivity "public" nothing is renewed. Remove 'renewAfter', or set connectivity to "private" or "auto".`,
  );
  return true;
}

/**
 * The kubeconfig, once checked, is read and parsed, and must hold the context to use (`context`,
 * or its current-context). A context that failed its own check, or is not known yet, cannot be
 * looked up: then only the kubeconfig itself is checked.
 */
function contextInKubeconfig(
  received: Received,
  checked: Partial<Record<InputProperty, unknown>>,
  opts: ValidateOptions,
  fail: Fail,
): void {
  const kubeconfig = checked.kubeconfig as string | undefined;
  if (kubeconfig === undefined) return;
  const context = checked.context as string | undefined;
  const inspected = inspectKubeconfig(kubeconfig, opts.readFile ?? readFileUtf8);
  const contextUsable =
    !received.isUnknown("context") && (!received.isGiven("context") || context !== undefined);
  if (!inspected.ok) fail("kubeconfig", inspected.reason);
  else if (contextUsable) {
    const selected = selectContext(inspected.summary, context);
    if (!selected.ok) fail(selected.property, selected.reason);
  }
}

/**
 * The checked inputs in canonical form. An unknown property passes through as received (and so
 * does what derives from it, a duration's seconds); otherwise the checked value or the default.
 * Optional properties without a value are left out.
 */
function normalized(
  raw: Record<string, unknown>,
  checked: Partial<Record<InputProperty, unknown>>,
  unknown: readonly InputProperty[],
): NormalizedInputs {
  const inputs: Record<string, unknown> = {};
  for (const property of INPUT_PROPERTIES) {
    const spec = inputSpec(property);
    if (unknown.includes(property)) {
      inputs[property] = raw[property];
      if (spec.duration) inputs[secondsKey(property)] = UNKNOWN_VALUE;
    } else if (spec.duration) {
      const defaultText = spec.default as string;
      const { text, seconds } =
        (checked[property] as CheckedDuration | undefined) ?? defaultDuration(defaultText);
      inputs[property] = text;
      inputs[secondsKey(property)] = seconds;
    } else if (checked[property] !== undefined) {
      inputs[property] = checked[property];
    } else if (spec.default !== undefined) {
      inputs[property] = structuredClone(spec.default);
    } else if (spec.required !== undefined || spec.defaultOf !== undefined) {
      // Rejected (see failures): a placeholder of the right type.
      inputs[property] = "";
    }
  }
  // Sorted: values passed through while unknown keep the output canonical too. The cast is
  // exact for known inputs; for unknown ones see ValidationResult.inputs.
  return sortKeys(inputs) as NormalizedInputs;
}

/** The rules that relate inputs, by the property whose check they replace or follow. */
interface Rules {
  /** Runs in place of the property's own check when it returns true. */
  instead: Partial<Record<InputProperty, () => boolean>>;
  /** Runs after the property's check. */
  after: Partial<Record<InputProperty, () => void>>;
}
