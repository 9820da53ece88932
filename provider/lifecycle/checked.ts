/**
 * The checked inputs: what the provider's `check` hands to `diff`, `create` and `update`, and
 * what the engine stores as the connection's inputs. They have the shape of the stored state
 * (`./state.ts`), because the CLI shows a replacement during a preview as the old state against
 * these, and an update as the old checked inputs against these (docs/engine-display.md): the
 * inputs under the names state keeps them by, what `check` observed in the cluster under the
 * names of the outputs it becomes, the platform settings; and what only the provider reads (the
 * durations' lengths in seconds among it) under {@link CHECK_KEY}, which the CLI never shows.
 * @module
 */

import {
  INPUT_PROPERTIES,
  SECONDS_KEYS,
  UNKNOWN_VALUE,
  inputSpec,
  isInputProperty,
  secondsKey,
  type NormalizedInputs,
  type ResolvedConnectivity,
} from "../inputs";
import type { CheckHints } from "../checks/cluster-checks";
import type { PlatformSummary } from "../install/platform-settings";
import { isRecord, sortKeys } from "../util/json";
import { storedKey, type StoredInputs } from "./properties";

/**
 * The checked-inputs key of what only the provider reads. The CLI hides every key that starts
 * with `__` at any depth (`IsInternalPropertyKey`).
 */
export const CHECK_KEY = "__check";

/** What `check` saw in the cluster, as `diff` and the explanation read it. */
export interface Observed {
  /** Key id in a freshly minted token's header: the key that signs now. */
  activeKeyId: string;
  /** UID of the `gulfstream` Namespace, `""` when it does not exist. */
  agentNamespaceUid: string;
  /** UID of the `kube-system` Namespace: which cluster this is. */
  clusterUid: string;
  /** `connectivity` resolved against the cluster: `"public"` or `"private"` (`""`: undecided). */
  connectivity: ResolvedConnectivity | "";
  /** The service account issuer. */
  issuer: string;
  /** The `jwks_uri` the issuer's public discovery document names (`""`: not public). */
  jwksUri: string;
  /** Every key id of the key set the platform verifies with, sorted. */
  signingKeyIds: string[];
}

/** A value `check` could not observe (an input the cluster checks need is not known yet). */
type Unknown = typeof UNKNOWN_VALUE;

/**
 * What only the provider reads in the checked inputs. Like the observed values of
 * {@link CheckedInputs}, each string is the unknown value when `check` could not observe.
 */
export interface CheckNotes extends Partial<Record<`${string}Seconds`, number>> {
  activeKeyId: string;
  agentNamespaceUid: string;
  /** Absent from checked inputs written before it was observed. */
  jwksUri?: string;
  /** The resource's URN when the SDK passed one (`""` otherwise). */
  resourceUrn: string;
}

/** The checked inputs, keys sorted. */
export type CheckedInputs = StoredInputs & {
  clusterUid: string;
  /** Resolved; the `connectivity` input is `requestedConnectivity`, as in state. */
  connectivity: ResolvedConnectivity | "" | Unknown;
  issuer: string;
  /** The platform settings the agent will be given, from the provider's configuration. */
  platform: PlatformSummary;
  signingKeyIds: string[] | Unknown;
  [CHECK_KEY]: CheckNotes;
};

/** The checked inputs of `inputs`, with what was observed (or unknown), keys sorted. */
export function checkedInputs(
  inputs: NormalizedInputs,
  observed: Observed | Unknown,
  platform: PlatformSummary,
  resourceUrn: string,
): CheckedInputs {
  const stored: Record<string, unknown> = {};
  const seconds: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (SECONDS_KEYS.includes(key)) seconds[key] = value;
    else stored[isInputProperty(key) ? storedKey(key) : key] = value;
  }
  const seen = observed === UNKNOWN_VALUE ? undefined : observed;
  const or = <T>(value: T | undefined): T | Unknown => (seen ? (value as T) : UNKNOWN_VALUE);
  return sortKeys({
    ...stored,
    clusterUid: or(seen?.clusterUid),
    connectivity: or(seen?.connectivity),
    issuer: or(seen?.issuer),
    platform,
    signingKeyIds: or(seen?.signingKeyIds),
    [CHECK_KEY]: {
      ...seconds,
      activeKeyId: or(seen?.activeKeyId),
      agentNamespaceUid: or(seen?.agentNamespaceUid),
      jwksUri: or(seen?.jwksUri),
      resourceUrn,
    },
  }) as unknown as CheckedInputs;
}

/** What `check` observed, from checked inputs; undefined when it could not observe. */
export function observedOf(checked: Record<string, unknown>): Observed | undefined {
  const notes = notesOf(checked);
  const { clusterUid, connectivity, issuer, signingKeyIds } = checked;
  const { activeKeyId, agentNamespaceUid } = notes;
  const values = [clusterUid, connectivity, issuer, activeKeyId, agentNamespaceUid];
  if (!values.every((v) => typeof v === "string" && v !== UNKNOWN_VALUE)) return undefined;
  if (!Array.isArray(signingKeyIds)) return undefined;
  return {
    activeKeyId: activeKeyId as string,
    agentNamespaceUid: agentNamespaceUid as string,
    clusterUid: clusterUid as string,
    connectivity: connectivity as Observed["connectivity"],
    issuer: issuer as string,
    jwksUri: typeof notes.jwksUri === "string" ? notes.jwksUri : "",
    signingKeyIds: signingKeyIds.filter((id): id is string => typeof id === "string"),
  };
}

/**
 * What the last check of the connection observed, from its checked inputs (`check`'s olds), as
 * hints that let this check send all its requests at once.
 */
export function checkHintsOf(olds: Record<string, unknown>): CheckHints {
  const known = (v: unknown) => (typeof v === "string" && v !== UNKNOWN_VALUE ? v : undefined);
  return {
    issuer: known(olds.issuer),
    jwksUri: known(notesOf(olds).jwksUri),
    connectivity: known(olds.connectivity),
  };
}

/** The resource's URN in checked inputs (or in the raw inputs `check` receives); `""` if none. */
export function resourceUrnOf(inputs: Record<string, unknown>): string {
  const urn = notesOf(inputs).resourceUrn ?? inputs.resourceUrn;
  return typeof urn === "string" && urn !== UNKNOWN_VALUE ? urn : "";
}

/** The normalized inputs inside checked inputs, under their input names. */
export function normalizedOf(checked: Record<string, unknown>): NormalizedInputs {
  const notes = notesOf(checked);
  const inputs: Record<string, unknown> = {};
  for (const property of INPUT_PROPERTIES) {
    const value = checked[storedKey(property)];
    if (value !== undefined) inputs[property] = value;
    if (inputSpec(property).duration) {
      const key = secondsKey(property);
      inputs[key] = notes[key as keyof CheckNotes];
    }
  }
  return inputs as unknown as NormalizedInputs;
}

function notesOf(checked: Record<string, unknown>): Partial<Record<keyof CheckNotes, unknown>> {
  const notes = checked[CHECK_KEY];
  return isRecord(notes) ? notes : {};
}
