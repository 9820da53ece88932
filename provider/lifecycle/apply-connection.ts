/**
 * `create` and `update`: bring the cluster and the platform in line with a connection's inputs.
 * One routine for both, because an update also finishes a create that failed half-way.
 *
 * Registration (invite, private identity, `mcp-creds`, waiting for the agent) happens when the
 * connection is new, when an earlier attempt did not finish, or when the platform lost the
 * registration; otherwise an update re-applies the manifests and the platform settings only.
 * A new connection takes over an existing installation (the replacement case): it re-labels
 * every object it applies, so the connection it replaces later deletes only what it still owns.
 * @module
 */

import { checkCluster, verifyKeysToUpload, type ClusterFacts } from "../checks/cluster-checks";
import { PartialFailureError, PrerequisiteError, RegisteredElsewhereError } from "../errors";
import type { NormalizedInputs } from "../inputs";
import type { KubeClient } from "../kube/client";
import type { Cluster, PlatformClient } from "../platform";
import { MAX_INVITE_TTL_SECONDS } from "../platform";
import { applyObjects } from "../install/apply";
import { claimIssuerBinding, readAgentNamespace } from "../install/cluster-state";
import { AGENT_NAMESPACE, AGENT_SUBJECT } from "../install/names";
import {
  agentObjects,
  credentialsSecret,
  issuerBindingObject,
  objectKey,
} from "../install/manifests";
import { ownedSelector } from "../install/ownership";
import { summarizePlatform } from "../install/platform-settings";
import { waitForRegistration } from "../install/registration";
import { deleteObjects, listObjects, notIn } from "../install/uninstall";
import type { CheckedInputs } from "./checked";
import type { LifecycleContext } from "./context";
import { sameJson } from "./diff";
import { withSettings } from "./settings";
import {
  initialState,
  normalizedOf,
  renewalTime,
  rfc3339,
  toOutputs,
  type ConnectionState,
} from "./state";

/** What {@link applyConnection} applies. */
export interface ApplyRequest {
  connectionId: string;
  /** The checked inputs (`check`'s result). */
  inputs: CheckedInputs;
  /** The stored state, for an update; absent for a create. */
  previous?: ConnectionState;
}

/** The platform's maximum lifetime of a static-key identity; it caps longer requests itself. */
const IDENTITY_LIFETIME_MS = 30 * 24 * 3600 * 1000;

/**
 * Applies a connection and resolves with its complete state. Failures before anything changed
 * reject with the cause as is; later ones with a {@link PartialFailureError} carrying the state
 * reached, so the engine keeps the resource and the next `up` (or `destroy`) can finish.
 */
export async function applyConnection(
  ctx: LifecycleContext,
  req: ApplyRequest,
): Promise<ConnectionState> {
  const { connectionId, previous } = req;
  const inputs = normalizedOf(req.inputs);
  const state = initialState(connectionId, inputs, previous);
  state.resourceUrn = typeof req.inputs.resourceUrn === "string" ? req.inputs.resourceUrn : "";
  const owner = { connectionId, clusterName: inputs.clusterName };
  const platform = ctx.platform();
  let kube: KubeClient | undefined;
  let changed = false;
  try {
    const agentPlatform = ctx.agentPlatform();
    const installedPlatform = summarizePlatform(agentPlatform);
    // States written before the agent was given platform settings have an empty summary.
    const before = previous?.platform.apiUrl ? previous.platform : undefined;
    // Told of another platform, the agent registers there anew, with an invite of that platform.
    const platformChanged = !!before && !sameJson(before, installedPlatform);
    // Another platform API: what the previous one holds is out of reach of this one's token.
    const moved = !!before && before.apiUrl !== installedPlatform.apiUrl;
    kube = await ctx.connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
    const { facts, problems } = await checkCluster(kube, {
      connectivity: inputs.connectivity,
      exposeIssuerDiscovery: inputs.exposeIssuerDiscovery,
    });
    if (problems.length > 0) throw new PrerequisiteError(problems);
    state.connectivity = facts.connectivity === "public" ? "public" : "private";
    state.issuer = facts.issuer;
    state.signingKeyIds = [...facts.signingKeyIds].sort();
    state.clusterUid = facts.clusterUid;

    // Who holds the installation, and where the platform has it registered.
    const namespace = await readAgentNamespace(kube);
    const registrations = namespace ? await platform.listClusters({ remoteId: namespace.uid }) : [];
    const current = registrations.find((c) => c.group === inputs.group);
    const elsewhere = registrations.find((c) => c.group !== inputs.group);
    const register =
      platformChanged ||
      !previous?.clusterId ||
      current?.id !== previous.clusterId ||
      namespace?.uid !== previous.remoteId;
    if (elsewhere && register && namespace?.owner === undefined) {
      throw new RegisteredElsewhereError(
        `the agent already installed in this cluster (namespace ${AGENT_NAMESPACE}, remoteId ${namespace?.uid}) ` +
          `is registered with Enforce as cluster ${elsewhere.id} in group ${elsewhere.group}, by an installation ` +
          `pulumi-enforce did not make (e.g. "chainctl cluster install"). Fix: set group to "${elsewhere.group}" ` +
          `to adopt that installation, or uninstall it first ("chainctl cluster uninstall --cluster ${elsewhere.id}").`,
      );
    }
    if (namespace?.terminating) {
      throw new Error(
        `namespace ${AGENT_NAMESPACE} is being deleted, so the agent cannot be installed into it yet. ` +
          "Fix: wait until it is gone (kubectl get namespace gulfstream), then run `pulumi up` again.",
      );
    }

    let invite: { id: string; code: string } | undefined;
    // A Set: the same identity can be superseded twice over (the previous state, and by name).
    const supersededIdentities = new Set<string>();
    if (register) {
      if (elsewhere) {
        ctx.progress(
          `moving cluster registration ${elsewhere.id} from group ${elsewhere.group} to ${inputs.group}: ` +
            "unregistering it there first (the agent stays installed and keeps enforcing)",
        );
        changed = true;
        await platform.deleteCluster(elsewhere.id);
      }
      if (state.connectivity === "private") {
        changed = true;
        await createIdentity(ctx, platform, inputs, state, facts);
        if (previous?.identityId && previous.identityId !== state.identityId && !moved) {
          supersededIdentities.add(previous.identityId);
        }
      } else {
        if (previous?.identityId && !moved) supersededIdentities.add(previous.identityId);
        Object.assign(state, {
          identityId: "",
          identityCreatedAt: "",
          identityExpiresAt: "",
          renewAt: "",
          uploadedKeyIds: [],
        });
      }
      changed = true;
      const created = await platform.createInvite(inputs.group, { ttlSeconds: inviteTtl(inputs) });
      invite = { id: created.id, code: created.code };
      state.inviteId = created.id;
    } else if (state.connectivity === "private" && state.identityCreatedAt) {
      state.renewAt = renewalTime(
        state.identityCreatedAt,
        inputs.renewAfterSeconds,
        state.identityExpiresAt,
      );
    }

    if (namespace && namespace.owner !== connectionId) {
      ctx.progress(
        namespace.owner
          ? `taking over the agent installation of connection ${namespace.owner}`
          : `adopting the agent installation already in the cluster (not made by pulumi-enforce)`,
      );
    }
    changed = true;
    state.ownsIssuerBinding = inputs.exposeIssuerDiscovery
      ? await claimIssuerBinding(kube, owner)
      : false;
    const objects = agentObjects({ ...inputs, connectionId, platform: agentPlatform });
    if (state.ownsIssuerBinding) objects.push(issuerBindingObject(owner));
    ctx.progress(`applying ${objects.length} agent objects (server-side apply)`, true);
    const applied = await applyObjects(kube, objects);
    const agentNamespace = applied.get(
      objectKey({ apiVersion: "v1", kind: "Namespace", metadata: { name: AGENT_NAMESPACE } }),
    );
    if (!agentNamespace) throw new Error(`manifests: namespace ${AGENT_NAMESPACE} is missing`);
    state.remoteId = agentNamespace.metadata.uid;
    state.platform = installedPlatform;

    const secret = credentialsSecret(
      {
        code: invite?.code ?? "",
        identityId: state.identityId,
        clusterName: inputs.clusterName,
        clusterDescription: inputs.description ?? "",
      },
      owner,
    );
    if (invite) {
      const before = (await platform.listClusters({ remoteId: state.remoteId })).find(
        (c) => c.group === inputs.group,
      );
      const since = ctx.now();
      await applyObjects(kube, [secret]);
      const cluster = await waitForRegistration({
        platform,
        kube,
        clusterName: inputs.clusterName,
        group: inputs.group,
        remoteId: state.remoteId,
        identityId: state.identityId,
        previousRegistered: before?.registered,
        since,
        timeoutMs: inputs.registrationTimeoutSeconds * 1000,
        progress: ctx.progress,
        pollMs: ctx.registrationPollMs,
        progressEveryMs: ctx.progressEveryMs,
        now: () => ctx.now().getTime(),
      });
      state.clusterId = cluster.id;
      state.registeredAt = cluster.registered;
      await platform.deleteInvite(invite.id);
      state.inviteId = "";
    }
    if (previous?.inviteId && previous.inviteId !== invite?.id && !moved) {
      await platform.deleteInvite(previous.inviteId);
    }
    if (moved && previous) reportLeftBehind(ctx, installedPlatform.apiUrl, previous);
    // A connection that took over from another deletes that one's identity once the agent no
    // longer uses it: normally the other connection's delete does, but when the other one was
    // dropped from state (a refresh that found its registration gone) nothing else would.
    if (invite && namespace?.owner && namespace.owner !== connectionId) {
      const name = identityName(namespace.owner);
      for (const identity of await platform.listIdentities({ childrenOf: inputs.group })) {
        if (identity.name === name && identity.id !== state.identityId) {
          supersededIdentities.add(identity.id);
        }
      }
    }
    for (const id of supersededIdentities) {
      ctx.progress(`deleting identity ${id}, which the agent no longer uses`);
      await platform.deleteIdentity(id);
    }

    await applySettings(ctx, platform, state, inputs);

    // Whatever this connection owns that the inputs no longer ask for (e.g. webhooks after a
    // switch to the observer profile, the issuer binding once exposeIssuerDiscovery is off).
    const wanted = [...objects.map(objectKey), objectKey(secret)];
    const stale = notIn(await listObjects(kube, ownedSelector(connectionId)), wanted);
    if (stale.length > 0) await deleteObjects(kube, stale, { progress: ctx.progress });
    return state;
  } catch (err) {
    if (changed) throw new PartialFailureError(connectionId, toOutputs(state), err as Error);
    throw err;
  } finally {
    kube?.close();
    await platform.close();
  }
}

/**
 * Says what stays registered at the platform the agent was moved away from: this connection's
 * token is for the new platform, so removing it there is left to the person running Pulumi.
 */
function reportLeftBehind(ctx: LifecycleContext, to: string, previous: ConnectionState): void {
  const held = [
    previous.clusterId && `cluster ${previous.clusterId}`,
    previous.identityId && `identity ${previous.identityId}`,
    previous.inviteId && `invite ${previous.inviteId}`,
  ].filter(Boolean);
  if (held.length === 0) return;
  ctx.progress(
    `the agent now reports to the platform at ${to}; ${held.join(", ")} stay at the previous ` +
      `platform ${previous.platform.apiUrl}, which this token cannot reach: delete them there ` +
      "if they are no longer wanted",
  );
}

/** Puts name, description, profiles and enforcer options on the platform's cluster record. */
async function applySettings(
  ctx: LifecycleContext,
  platform: PlatformClient,
  state: ConnectionState,
  inputs: NormalizedInputs,
): Promise<void> {
  const [cluster] = await platform.listClusters({ id: state.clusterId });
  if (!cluster) {
    throw new Error(
      `cluster ${state.clusterId} is no longer registered with Enforce (deleted while this update ran?). ` +
        "Run `pulumi up` again to register it anew.",
    );
  }
  const next = withSettings(cluster, {
    clusterName: inputs.clusterName,
    description: inputs.description ?? "",
    profiles: inputs.profiles,
    enforcerOptions: inputs.enforcerOptions,
  });
  let result: Cluster = cluster;
  if (next) {
    ctx.progress(`updating the settings of cluster ${cluster.id} in Enforce`);
    result = await platform.updateCluster(next);
  }
  state.registeredAt = result.registered;
}

/**
 * Uploads the cluster's discovery document and JWKS as a static-key identity, after verifying
 * once more that the JWKS verifies the token the cluster issues.
 */
async function createIdentity(
  ctx: LifecycleContext,
  platform: PlatformClient,
  inputs: NormalizedInputs,
  state: ConnectionState,
  facts: ClusterFacts,
): Promise<void> {
  const jwks = facts.jwks;
  if (!jwks)
    throw new Error("the cluster's JWKS could not be read, so there are no keys to upload");
  const mismatch = await verifyKeysToUpload(facts);
  if (mismatch) throw new PrerequisiteError([mismatch]);
  const now = ctx.now();
  const identity = await platform.createIdentity(inputs.group, {
    name: identityName(state.connectionId),
    description: `Agent of cluster "${inputs.clusterName}" (pulumi-enforce connection ${state.connectionId})`,
    issuer: state.issuer,
    subject: AGENT_SUBJECT,
    issuerKeys: jwks,
    expiration: new Date(now.getTime() + IDENTITY_LIFETIME_MS),
  });
  state.identityId = identity.id;
  state.uploadedKeyIds = [...state.signingKeyIds];
  state.identityCreatedAt = rfc3339(now);
  state.identityExpiresAt =
    identity.static?.expiration ?? rfc3339(now.getTime() + IDENTITY_LIFETIME_MS);
  state.renewAt = renewalTime(
    state.identityCreatedAt,
    inputs.renewAfterSeconds,
    state.identityExpiresAt,
  );
  ctx.progress(
    `uploaded the cluster's signing keys (${state.signingKeyIds.join(", ")}), which verify the ` +
      `token it issues now (key ${facts.activeKeyId}), as identity ${identity.id}; renewal due ${state.renewAt}`,
  );
}

/** The name of a connection's identity, by which a later connection finds it. */
export function identityName(connectionId: string): string {
  return `pulumi-enforce-${connectionId}`;
}

/** Invite lifetime: the registration timeout plus a margin, within the platform's limits. */
function inviteTtl(inputs: NormalizedInputs): number {
  return Math.min(MAX_INVITE_TTL_SECONDS, Math.max(900, inputs.registrationTimeoutSeconds + 600));
}
