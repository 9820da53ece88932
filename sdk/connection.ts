/**
 * The `EnforceClusterConnection` resource: one per Kubernetes cluster to connect to Enforce.
 * @module
 */

import * as pulumi from "@pulumi/pulumi";
import { enforceProvider } from "../provider/dynamic";
import {
  INPUT_PROPERTIES,
  inputSpec,
  type AgentImageName,
  type Connectivity,
  type NamespaceEnforcementMode,
  type Profile,
  type ResolvedConnectivity,
} from "../provider/inputs";
import { PROGRAM_OUTPUTS, STATE_KEY, isShown, outputSpec } from "../provider/lifecycle/properties";

export type {
  AgentImageName,
  Connectivity,
  NamespaceEnforcementMode,
  Profile,
  ResolvedConnectivity,
};

/** The platform settings a connection installed for its agent (its `platform` output). */
export interface PlatformSettingsOutput {
  /** The platform API's base URL (`enforce:apiUrl`). */
  apiUrl: string;
  /** SHA-256 (hex) of the CA bundle the agent trusts besides the system roots; `""` without one. */
  caSha256: string;
  /** The platform issuer's base URL (`enforce:issuerUrl`), where the agent registers. */
  issuerUrl: string;
}

/** Settings of the agent's admission webhook and policy controller (the CLI's `--opt`). */
export interface EnforcerOptionsArgs {
  /**
   * Admit pods when the webhook cannot answer (`failurePolicy: Ignore` instead of `Fail`).
   * @default false
   */
  webhookFailOpen?: pulumi.Input<boolean>;
  /**
   * Cache ClusterImagePolicy results (the CLI's `enable_cip_cache`).
   * @default false
   */
  enableCipCache?: pulumi.Input<boolean>;
  /**
   * Which namespaces the webhook covers: only those labelled in (`"opt-in"`), or all but those
   * labelled out (`"opt-out"`).
   * @default "opt-in"
   */
  namespaceEnforcementMode?: pulumi.Input<NamespaceEnforcementMode>;
}

/**
 * Agent image overrides, e.g. to pull from a mirror. Each left out uses the reference pinned by
 * the agent's last published Helm chart (tag and digest).
 */
export interface AgentImagesArgs {
  /** The token-exchange sidecar (container `sts`): registers the cluster, trades tokens. */
  chainctl?: pulumi.Input<string>;
  /** The agent's controllers and admission webhook (container `controller`). */
  controlplane?: pulumi.Input<string>;
}

/** The inputs of an {@link EnforceClusterConnection}. */
export interface EnforceClusterConnectionArgs {
  /**
   * The cluster's kubeconfig: its contents (YAML or JSON), or the path of a kubeconfig file
   * (relative to the directory Pulumi runs in). Always treated as a secret. EKS and GKE
   * kubeconfigs that authenticate with exec credential plugins work; the plugin must be on the
   * PATH of the machine running Pulumi.
   */
  kubeconfig: pulumi.Input<string>;
  /**
   * The kubeconfig context to use.
   * @default the kubeconfig's `current-context`
   */
  context?: pulumi.Input<string>;
  /** The id (UIDP) of the Enforce group the cluster is connected under. */
  group: pulumi.Input<string>;
  /**
   * The cluster's display name in Enforce.
   * @default the resource name
   */
  clusterName?: pulumi.Input<string>;
  /** A short description shown in Enforce (at most 256 characters). */
  description?: pulumi.Input<string>;
  /**
   * `"public"`: Enforce fetches the cluster's service account issuer discovery document itself,
   * which must be reachable without credentials. `"private"`: the issuer's keys are uploaded to
   * Enforce and renewed (see `renewAfter`). `"auto"`: public when the issuer is reachable
   * anonymously (or `exposeIssuerDiscovery` makes it so), private otherwise.
   * @default "auto"
   */
  connectivity?: pulumi.Input<Connectivity>;
  /**
   * Create the ClusterRoleBinding `public-issuer-discovery`, which lets anonymous clients read the
   * issuer discovery document and keys. Makes the cluster public only when its issuer is served by
   * its own API server.
   * @default false
   */
  exposeIssuerDiscovery?: pulumi.Input<boolean>;
  /**
   * Private connections only: how long the uploaded identity is used before it is renewed, as a
   * duration such as `"25d"`, `"12h"` or `"90s"`, from `"5s"` to `"30d"` (the platform's maximum
   * lifetime of an uploaded identity). Once it has passed, `pulumi preview` proposes a replacement
   * on `renewAt`, and `pulumi up` renews the upload without interrupting the agent. Must not be set
   * when `connectivity` is `"public"`.
   * @default "25d"
   */
  renewAfter?: pulumi.Input<string>;
  /**
   * The agent profiles to install: `"enforcer"` (observe and enforce policy; includes
   * `"observer"`) or `"observer"` (observe only).
   * @default ["enforcer"]
   */
  profiles?: pulumi.Input<pulumi.Input<Profile>[]>;
  /** Settings of the enforcer; each left out takes its default. */
  enforcerOptions?: pulumi.Input<EnforcerOptionsArgs>;
  /**
   * Image references to use instead of the agent's defaults, by image name (`"chainctl"`,
   * `"controlplane"`), e.g. to pull from a mirrored registry.
   * @default {}
   */
  agentImages?: pulumi.Input<AgentImagesArgs>;
  /**
   * How long to wait for the agent to register with Enforce, as a duration like `"5m"`, from
   * `"10s"` to `"1h"`. When it passes, the error says what was seen, and the connection stays in
   * the stack as partially created: the next `pulumi up` resumes.
   * @default "5m"
   */
  registrationTimeout?: pulumi.Input<string>;
}

/**
 * Inputs kept secret in state and in engine messages, whatever the program passed. (Its type
 * also checks that every input of the provider's table is a property of the Args.)
 */
const SECRET_INPUTS: readonly (keyof EnforceClusterConnectionArgs)[] = INPUT_PROPERTIES.filter(
  (property) => inputSpec(property).secret,
);

/** The Pulumi type of {@link EnforceClusterConnection}. */
const RESOURCE_TYPE = "EnforceClusterConnection";
/** Its type token, as URNs spell it. */
const RESOURCE_TOKEN = `pulumi-nodejs:dynamic:${RESOURCE_TYPE}`;

/**
 * Connects a Kubernetes cluster to Enforce, as `chainctl cluster install [--private]` did:
 * checks the cluster's prerequisites (token volume projection, service account issuer discovery,
 * public or private issuer) during preview; installs the agent with server-side apply, uploads a
 * private cluster's issuer keys and waits for the agent to register on `pulumi up`; uninstalls
 * (admission webhooks first) and unregisters on `pulumi destroy`.
 *
 * A private connection is replaced when its cluster's signing keys change or `renewAt` passes;
 * the replacement takes over the running agent, which is never uninstalled in between.
 * `pulumi refresh` reports the connection deleted when its agent namespace or registration is
 * gone, so that the next `pulumi up` reinstalls it.
 *
 * Platform credentials are not inputs: they come from the stack config (`enforce:token`, set with
 * `--secret`, `enforce:apiUrl`, ...) or the environment (`ENFORCE_TOKEN`, ...).
 *
 * @example
 * ```ts
 * new EnforceClusterConnection("prod-eu", {
 *   kubeconfig: cluster.kubeconfigJson, // e.g. an @pulumi/eks Cluster
 *   group: "0123456789abcdef0123456789abcdef01234567",
 * });
 * ```
 */
export class EnforceClusterConnection extends pulumi.dynamic.Resource {
  /** The cluster's id in Enforce (a UIDP under `group`). */
  declare readonly clusterId: pulumi.Output<string>;
  /** The id Enforce knows the cluster by on the agent's side: the `gulfstream` Namespace UID. */
  declare readonly remoteId: pulumi.Output<string>;
  /**
   * How the cluster is connected, `"public"` or `"private"` (`"auto"` resolved). Until the
   * connection is created, a preview shows the `connectivity` input here.
   */
  declare readonly connectivity: pulumi.Output<ResolvedConnectivity>;
  /** The cluster's service account issuer. */
  declare readonly issuer: pulumi.Output<string>;
  /** Key ids of the issuer's signing keys (its JWKS) when the connection was last applied, sorted. */
  declare readonly signingKeyIds: pulumi.Output<string[]>;
  /** The Enforce identity the agent assumes; `""` for public connections. */
  declare readonly identityId: pulumi.Output<string>;
  /** When the cluster was registered (RFC 3339). */
  declare readonly registeredAt: pulumi.Output<string>;
  /** When a private connection's identity is renewed next (RFC 3339); `""` for public ones. */
  declare readonly renewAt: pulumi.Output<string>;
  /**
   * Where the agent was told Enforce is (ConfigMap `gulfstream/config-platform`): the API and
   * issuer URLs from `enforce:apiUrl` and `enforce:issuerUrl`, and the SHA-256 of the
   * `enforce:caFile` bundle (`""` without one).
   */
  declare readonly platform: pulumi.Output<PlatformSettingsOutput>;

  /**
   * @param name The resource name; also the default `clusterName`.
   * @param args The connection's inputs.
   * @param opts Resource options; `kubeconfig` is always added to `additionalSecretOutputs`.
   */
  constructor(
    name: string,
    args: EnforceClusterConnectionArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const given: Record<string, unknown> = { ...args };
    super(
      enforceProvider,
      name,
      {
        // Everything given, unknown properties too: check rejects them with a fix.
        ...given,
        // Secret in state and in engine messages, whatever the caller passed.
        ...Object.fromEntries(
          SECRET_INPUTS.map((p) => [
            p,
            given[p] === undefined ? undefined : pulumi.secret(given[p]),
          ]),
        ),
        // A dynamic provider's check is not told the resource name, which clusterName defaults to.
        resourceName: name,
        // Nor its URN, which the provider's progress messages are shown with.
        resourceUrn: pulumi.createUrn(name, RESOURCE_TOKEN, opts?.parent),
        // The outputs stored at the top level, listed so that they exist. One that is also an
        // input is listed even when not given; until the connection is created, it holds the
        // given value.
        ...Object.fromEntries(
          PROGRAM_OUTPUTS.filter(isShown).map((p) => [
            p,
            outputSpec(p).kind === "both" ? given[p] : undefined,
          ]),
        ),
        // The rest, which state keeps where the CLI does not show them.
        [STATE_KEY]: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: [...SECRET_INPUTS] }),
      undefined,
      RESOURCE_TYPE,
    );
    const hidden = (this as unknown as Record<string, pulumi.Output<Record<string, unknown>>>)[
      STATE_KEY
    ];
    for (const property of PROGRAM_OUTPUTS.filter((p) => !isShown(p))) {
      Object.defineProperty(this, property, {
        value: hidden!.apply((state) => state?.[property]),
        enumerable: true,
      });
    }
  }
}
