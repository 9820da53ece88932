/**
 * The connection's outputs and the rest of its state, each described once: who sees it, how a
 * stored value is read back, and what a change to it does. With the inputs of
 * `../inputs/properties.ts` this is the whole of {@link ConnectionState}: its keys, how state is
 * read back and started, what `diff` compares, and which outputs the SDK registers derive from the
 * two tables.
 * @module
 */

import {
  INPUT_PROPERTIES,
  inPlace,
  inputSpec,
  replaces,
  type InputProperty,
  type Inputs,
  type NormalizedInputs,
  type ResolvedConnectivity,
  type Update,
} from "../inputs";
import type { PlatformSummary } from "../install/platform-settings";

/**
 * Who sees a state property: `"output"`, the program (the SDK registers it); `"both"`, an output
 * that is also an input (until the connection is created, it holds the given value); `"state"`,
 * only the provider, which keeps it for later operations.
 */
export type OutputKind = "output" | "both" | "state";

/** One property of the state that is not a stored input. */
export interface OutputSpec<T> {
  kind: OutputKind;
  /**
   * Reads the stored value back, tolerating what older versions or a partial create left out
   * (`value` is then `undefined`); `outs` is the whole stored state.
   */
  read: (value: unknown, outs: Record<string, unknown>) => T;
  /** Added to the checked inputs by `check`, and compared by `diff` when it has an `update`. */
  checked?: boolean;
  /**
   * Stored at the top level of the state, where the CLI shows it, because `check` puts the same
   * value under the same name in the checked inputs (`./checked.ts`): a preview then shows it
   * changed only when it changes. Everything else is kept under {@link STATE_KEY}, hidden: a
   * value only an apply produces would otherwise show as removed in every replacement's preview.
   */
  shown?: boolean;
  /**
   * What a change does. For the properties that are not `checked`, `diff` sees the change in
   * what `check` observed in the cluster.
   */
  update?: Update;
}

/**
 * The state key of what is not {@link OutputSpec.shown}. The CLI hides every key that starts
 * with `__` at any depth (`IsInternalPropertyKey`).
 */
export const STATE_KEY = "__state";

const text = (value: unknown): string => (typeof value === "string" ? value : "");
const flag = (value: unknown): boolean => value === true;
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** The stored platform summary; empty strings where a state from an older version has none. */
function platformSummary(value: unknown): PlatformSummary {
  const v = (value ?? {}) as Record<string, unknown>;
  return { apiUrl: text(v.apiUrl), caSha256: text(v.caSha256), issuerUrl: text(v.issuerUrl) };
}

/** The state besides the stored inputs. */
export const OUTPUTS = {
  /** This connection's id: the resource id and the ownership label on everything it installs. */
  connectionId: { kind: "state", read: text },
  /** Resolved connectivity (the `connectivity` input as given is `requestedConnectivity`). */
  connectivity: {
    kind: "both",
    shown: true,
    read: (value: unknown): ResolvedConnectivity => (value === "public" ? "public" : "private"),
    update: replaces("the agent proves the cluster's identity another way"),
  },
  /** The service account issuer. */
  issuer: {
    kind: "output",
    shown: true,
    read: text,
    update: replaces("another issuer is another cluster"),
  },
  /** Key ids the issuer's JWKS published when the connection was last applied, sorted. */
  signingKeyIds: {
    kind: "output",
    shown: true,
    read: strings,
    update: replaces(
      "private connections: the uploaded keys no longer verify the cluster's tokens (compared with uploadedKeyIds)",
    ),
  },
  /**
   * Key ids of the JWKS uploaded with the identity (private connections; `[]` otherwise). Not
   * refreshed: a JWKS that no longer matches it is what makes `diff` replace on `signingKeyIds`.
   */
  uploadedKeyIds: {
    kind: "state",
    read: (value: unknown, outs: Record<string, unknown>) => strings(value ?? outs.signingKeyIds),
  },
  /** UID of the `kube-system` Namespace: which cluster this is. */
  clusterUid: {
    kind: "state",
    shown: true,
    read: text,
    update: replaces("another kube-system namespace is another cluster"),
  },
  /** UID of the `gulfstream` Namespace (the platform's `remoteId`); `""` before it exists. */
  remoteId: {
    kind: "output",
    read: text,
    update: replaces("the agent's namespace was created again: the installation is another one"),
  },
  /** The cluster's id in Enforce; `""` until the agent registered. */
  clusterId: { kind: "output", read: text },
  /** When the agent registered (RFC 3339); `""` until then. */
  registeredAt: { kind: "output", read: text },
  /** The static-key identity the agent uses (private connections); `""` otherwise. */
  identityId: { kind: "output", read: text },
  /** When that identity was created (RFC 3339); `""` without one. */
  identityCreatedAt: { kind: "state", read: text },
  /** When the platform stops accepting that identity (RFC 3339); `""` without one. */
  identityExpiresAt: { kind: "state", read: text },
  /** When a private connection is renewed (RFC 3339); `""` for public ones. */
  renewAt: {
    kind: "output",
    read: text,
    update: replaces(
      "the identity is renewed: a new one is uploaded and the agent registers again",
    ),
  },
  /** The invite created for registration, until it is deleted; `""` afterwards. */
  inviteId: { kind: "state", read: text },
  /** The platform settings installed for the agent (ConfigMap `gulfstream/config-platform`). */
  platform: {
    kind: "output",
    shown: true,
    read: platformSummary,
    checked: true,
    update: inPlace(
      "the agent's platform settings: installed again, and the agent registers there anew",
    ),
  },
  /**
   * What the last refresh found changed outside Pulumi in the objects the connection installed,
   * one sorted line per difference (`Kind namespace/name: what`), no Secret value in any;
   * `[]` when nothing. A non-empty list updates the connection in place: `up` applies them again.
   */
  installationDrift: {
    kind: "state",
    read: strings,
    update: inPlace("changed outside Pulumi: up applies the agent's objects again"),
  },
  /** Whether this connection created ClusterRoleBinding `public-issuer-discovery`. */
  ownsIssuerBinding: { kind: "state", read: flag },
  /** The resource's URN, which progress messages are shown with; `""` when unknown. */
  resourceUrn: { kind: "state", read: text, checked: true },
} satisfies Record<string, OutputSpec<unknown>>;

/** A state property that is not a stored input. */
export type OutputProperty = keyof typeof OUTPUTS;

/** The names of {@link OUTPUTS}, sorted. */
export const OUTPUT_PROPERTIES: readonly OutputProperty[] = (
  Object.keys(OUTPUTS) as OutputProperty[]
).sort();

/** The description of `property`, widened to the common shape. */
export function outputSpec(property: OutputProperty): OutputSpec<unknown> {
  return OUTPUTS[property];
}

/** The outputs the program sees (the SDK registers them), sorted. */
export const PROGRAM_OUTPUTS: readonly OutputProperty[] = OUTPUT_PROPERTIES.filter(
  (property) => outputSpec(property).kind !== "state",
);

/** Whether `property` is stored at the top level of the state (else under {@link STATE_KEY}). */
export function isShown(property: OutputProperty): boolean {
  return outputSpec(property).shown === true;
}

/** The state key an input is stored under. */
export function storedKey(property: InputProperty): string {
  return inputSpec(property).storedAs ?? property;
}

/**
 * What `diff` compares by value and updates in place: each in-place input (new value against
 * its stored key) and each checked output with an in-place update, by name, sorted.
 */
export const IN_PLACE: readonly { property: string; stored: string }[] = [
  ...INPUT_PROPERTIES.filter((p) => !inputSpec(p).update.replace).map((p) => ({
    property: p as string,
    stored: storedKey(p),
  })),
  ...OUTPUT_PROPERTIES.filter((p) => {
    const spec = outputSpec(p);
    return spec.checked === true && spec.update?.replace === false;
  }).map((p) => ({ property: p as string, stored: p as string })),
].sort((a, b) => (a.property < b.property ? -1 : a.property > b.property ? 1 : 0));

/** The inputs whose change replaces the connection, sorted. */
export const REPLACING_INPUTS: readonly InputProperty[] = INPUT_PROPERTIES.filter(
  (p) => inputSpec(p).update.replace,
);

/** The inputs stored under another key, by that key. */
type Renamed = {
  [K in InputProperty as Inputs[K] extends { storedAs: infer S extends string }
    ? S
    : never]: NormalizedInputs[K];
};

/** The inputs as stored in state: under their own name unless they say otherwise. */
export type StoredInputs = Omit<
  NormalizedInputs,
  { [K in InputProperty]: Inputs[K] extends { storedAs: string } ? K : never }[InputProperty]
> &
  Renamed;

/** The state besides the stored inputs, as read back. */
export type Outputs = {
  -readonly [K in OutputProperty]: ReturnType<(typeof OUTPUTS)[K]["read"]>;
};
