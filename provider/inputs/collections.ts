/**
 * Checks for the list and object inputs: `profiles`, `enforcerOptions`, `agentImages`. Each
 * reports every problem it finds (not only the first), naming nested properties as
 * `enforcerOptions.<key>` and `agentImages.<name>`.
 * @module
 */

import { AGENT_IMAGE_NAMES, isAgentImageName, type AgentImageName } from "./agent-images";
import { parseImageReference } from "./image-ref";
import { isRecord } from "../util/json";
import { closestName, quoteList, typeName } from "./values";
import type { Check } from "./scalars";
import {
  DEFAULTS,
  NAMESPACE_ENFORCEMENT_MODES,
  PROFILES,
  type EnforcerOptions,
  type NamespaceEnforcementMode,
  type Profile,
} from "./types";

/** "; did you mean "x"?" when a known name is a case or separator variant of `name`. */
function didYouMean(name: string, known: readonly string[]): string {
  const guess = closestName(name, known);
  return guess === undefined ? "" : ` Did you mean ${JSON.stringify(guess)}?`;
}

const PROFILES_FIX = `List "enforcer" (observe and enforce policy; includes observer) or "observer" (observe only), or leave 'profiles' out for ["enforcer"].`;

/**
 * Checks `profiles` and reduces it to its canonical form: `["enforcer"]` when enforcer is
 * listed (it implies observer, so `["observer", "enforcer"]` means the same), else `["observer"]`.
 */
export const checkProfiles: Check<Profile[]> = (value, fail) => {
  const report = (reason: string) => fail("profiles", `${reason} ${PROFILES_FIX}`);
  if (!Array.isArray(value)) {
    report(`'profiles' must be a list of strings, got ${typeName(value)}.`);
    return undefined;
  }
  if (value.length === 0) {
    report("'profiles' is empty.");
    return undefined;
  }
  const seen = new Set<Profile>();
  let valid = true;
  for (const [index, profile] of value.entries()) {
    if (typeof profile !== "string") {
      report(`profiles[${index}] must be a string, got ${typeName(profile)}.`);
      valid = false;
    } else if (!(PROFILES as readonly string[]).includes(profile)) {
      report(
        `profiles[${index}] ${JSON.stringify(profile)} is not a profile.${didYouMean(profile, PROFILES)}`,
      );
      valid = false;
    } else if (seen.has(profile as Profile)) {
      fail(
        "profiles",
        `'profiles' lists ${JSON.stringify(profile)} twice. List each profile once.`,
      );
      valid = false;
    } else {
      seen.add(profile as Profile);
    }
  }
  if (!valid) return undefined;
  return seen.has("enforcer") ? ["enforcer"] : ["observer"];
};

const ENFORCER_OPTION_NAMES = Object.keys(DEFAULTS.enforcerOptions).sort();

/** Checks `enforcerOptions` and fills in the defaults of options left out. */
export const checkEnforcerOptions: Check<EnforcerOptions> = (value, fail) => {
  const known = `Known options: ${quoteList(ENFORCER_OPTION_NAMES)}.`;
  if (!isRecord(value)) {
    fail(
      "enforcerOptions",
      `'enforcerOptions' must be an object, got ${typeName(value)}. Pass e.g. { webhookFailOpen: true }. ${known}`,
    );
    return undefined;
  }
  const options: EnforcerOptions = { ...DEFAULTS.enforcerOptions };
  let valid = true;
  for (const key of Object.keys(value).sort()) {
    const option = value[key];
    const property = `enforcerOptions.${key}`;
    if (key === "webhookFailOpen" || key === "enableCipCache") {
      if (typeof option === "boolean") {
        options[key] = option;
        continue;
      }
      fail(
        property,
        `'${property}' must be a boolean, got ${typeName(option)}. Pass true or false.`,
      );
    } else if (key === "namespaceEnforcementMode") {
      if ((NAMESPACE_ENFORCEMENT_MODES as readonly unknown[]).includes(option)) {
        options[key] = option as NamespaceEnforcementMode;
        continue;
      }
      const shown = typeof option === "string" ? JSON.stringify(option) : typeName(option);
      fail(
        property,
        `'${property}' is ${shown}, not one of ${quoteList(NAMESPACE_ENFORCEMENT_MODES)}. Use "opt-in" to enforce only in namespaces labelled policy.sigstore.dev/include=true, or "opt-out" to enforce everywhere except namespaces labelled policy.sigstore.dev/exclude=true.`,
      );
    } else {
      fail(
        property,
        `Unknown enforcer option '${key}'.${didYouMean(key, ENFORCER_OPTION_NAMES)} ${known} Remove it or use one of those.`,
      );
    }
    valid = false;
  }
  return valid ? options : undefined;
};

/** Checks `agentImages`: known image names mapped to fully qualified image references. */
export const checkAgentImages: Check<Partial<Record<AgentImageName, string>>> = (value, fail) => {
  const known = `Known images: ${quoteList(AGENT_IMAGE_NAMES)}.`;
  if (!isRecord(value)) {
    fail(
      "agentImages",
      `'agentImages' must be an object mapping image names to image references, got ${typeName(value)}. Pass e.g. { controlplane: "registry.example.com/enforce/controlplane:v1" }. ${known}`,
    );
    return undefined;
  }
  const images: Partial<Record<AgentImageName, string>> = {};
  let valid = true;
  for (const name of Object.keys(value).sort()) {
    const reference = value[name];
    const property = `agentImages.${name}`;
    if (!isAgentImageName(name)) {
      fail(
        property,
        `Unknown agent image '${name}'.${didYouMean(name, AGENT_IMAGE_NAMES)} ${known} Remove it or use one of those.`,
      );
    } else if (typeof reference !== "string") {
      fail(
        property,
        `'${property}' must be an image reference string, got ${typeName(reference)}. Pass e.g. "registry.example.com/enforce/${name}:v1.2.3".`,
      );
    } else {
      const parsed = parseImageReference(reference);
      if (parsed.ok) {
        images[name] = reference;
        continue;
      }
      fail(property, `'${property}' is not a valid image reference: ${parsed.reason}`);
    }
    valid = false;
  }
  return valid ? images : undefined;
};
