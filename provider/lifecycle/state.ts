/**
 * What a connection stores in state (its outputs): the checked inputs it was applied with, what
 * it observed and created, and what `delete` needs to undo it. Plain JSON, keys sorted, so state
 * never changes by accident; `diff` compares new inputs against exactly this.
 * @module
 */

import type { RegistrationIds } from "../errors";
import {
  INPUT_PROPERTIES,
  SECONDS_KEYS,
  inputSpec,
  secondsKey,
  type InputSpec,
  type NormalizedInputs,
} from "../inputs";
import { isRecord, sortKeys } from "../util/json";
import {
  OUTPUT_PROPERTIES,
  STATE_KEY,
  isShown,
  outputSpec,
  storedKey,
  type OutputProperty,
  type Outputs,
  type StoredInputs,
} from "./properties";

/**
 * The outputs of an `EnforceClusterConnection`, as stored in state: the inputs (the
 * `connectivity` input as `requestedConnectivity`) and the outputs, each described in its table.
 */
export interface ConnectionState extends StoredInputs, Outputs {}

/** Keys every complete {@link ConnectionState} has (optional inputs aside), sorted. */
export const STATE_KEYS: readonly (keyof ConnectionState)[] = [
  ...INPUT_PROPERTIES.flatMap((property) => {
    const spec = inputSpec(property);
    if (isOptional(spec)) return [];
    return spec.duration ? [storedKey(property), secondsKey(property)] : [storedKey(property)];
  }),
  ...OUTPUT_PROPERTIES,
].sort() as (keyof ConnectionState)[];

function isOptional(spec: InputSpec<unknown>): boolean {
  return spec.default === undefined && spec.defaultOf === undefined && spec.required === undefined;
}

/**
 * The state as stored, plain JSON with keys sorted and no `undefined` anywhere (dropped): the
 * inputs and the {@link isShown} outputs at the top level; under {@link STATE_KEY} the other
 * outputs and the durations' lengths in seconds (derived from the text next to them).
 */
export function toOutputs(state: ConnectionState): Record<string, unknown> {
  const flat = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
  const hidden: Record<string, unknown> = {};
  for (const property of [...OUTPUT_PROPERTIES.filter((p) => !isShown(p)), ...SECONDS_KEYS]) {
    if (!(property in flat)) continue;
    hidden[property] = flat[property];
    delete flat[property];
  }
  return sortKeys({ ...flat, [STATE_KEY]: hidden });
}

/** `t` as RFC 3339 in UTC, whole seconds (what the platform and a reader expect). */
export function rfc3339(t: Date | number): string {
  return new Date(Math.floor(new Date(t).getTime() / 1000) * 1000)
    .toISOString()
    .replace(".000Z", "Z");
}

/**
 * When a private connection renews: `renewAfter` after its identity was created, but never
 * after the identity expires (the platform may cap lifetimes below `renewAfter`).
 */
export function renewalTime(
  identityCreatedAt: string,
  renewAfterSeconds: number,
  identityExpiresAt: string,
): string {
  const due = Date.parse(identityCreatedAt) + renewAfterSeconds * 1000;
  const expires = Date.parse(identityExpiresAt);
  return rfc3339(Number.isFinite(expires) ? Math.min(due, expires) : due);
}

/**
 * Reads stored outputs back, tolerating what older versions or a partial create left out
 * (earlier versions kept every output at the top level).
 */
export function fromOutputs(stored: Record<string, unknown>): ConnectionState {
  const hidden = stored[STATE_KEY];
  const outs = { ...stored, ...(isRecord(hidden) ? hidden : {}) };
  const state: Record<string, unknown> = {};
  for (const property of INPUT_PROPERTIES) {
    const spec = inputSpec(property);
    const key = storedKey(property);
    const value = readInput(spec, outs[key]);
    if (value !== undefined) state[key] = value;
    if (spec.duration) {
      const seconds = outs[secondsKey(property)];
      state[secondsKey(property)] = typeof seconds === "number" ? seconds : 0;
    }
  }
  for (const property of OUTPUT_PROPERTIES) {
    state[property] = outputSpec(property).read(outs[property], outs);
  }
  return state as unknown as ConnectionState;
}

/**
 * A stored input: kept when it has the type of its default (`""` for required inputs and those
 * whose default is computed), the default otherwise; an optional one only when stored.
 */
function readInput(spec: InputSpec<unknown>, value: unknown): unknown {
  if (isOptional(spec)) return value ?? undefined;
  const fallback = spec.default === undefined || spec.duration ? "" : spec.default;
  return value !== undefined && value !== null && typeof value === typeof fallback
    ? value
    : structuredClone(fallback);
}

/** The state an apply starts from: the inputs, plus what an earlier apply created. */
export function initialState(
  connectionId: string,
  inputs: NormalizedInputs,
  previous: ConnectionState | undefined,
): ConnectionState {
  const empty = fromOutputs({});
  const state: Record<string, unknown> = {};
  for (const property of OUTPUT_PROPERTIES) {
    state[property] = (previous ?? empty)[property satisfies OutputProperty];
  }
  const given = inputs as unknown as Record<string, unknown>;
  for (const property of INPUT_PROPERTIES) {
    if (given[property] !== undefined) state[storedKey(property)] = given[property];
    if (inputSpec(property).duration) {
      state[secondsKey(property)] = given[secondsKey(property)];
    }
  }
  state.connectionId = connectionId;
  return state as unknown as ConnectionState;
}

/** The ids an error about this connection carries, for programs that read them. */
export function registrationIdsOf(state: ConnectionState): RegistrationIds {
  const { clusterName, group, remoteId, clusterId, identityId } = state;
  return { clusterName, group, remoteId, clusterId, identityId };
}
