import { ClusterUnreachableError } from "../../provider/errors";
import { KubeStatusError, KubeconfigError, KubeUnreachableError } from "../../provider/kube/errors";
import { deleteConnection } from "../../provider/lifecycle/delete-connection";
import { isUnreachable, replacementOf } from "../../provider/lifecycle/delete/steps";
import { CONNECTION_LABEL } from "../../provider/install/ownership";
import { identityName } from "../../provider/lifecycle/apply/identity";
import {
  CONNECTION_ID,
  FakeKube,
  FakePlatform,
  GROUP,
  agentNamespace,
  clusterRecord,
  fakeContext,
  storedState,
} from "../support/lifecycle-fakes";

/**
 * The steps of `deleteConnection` and their rules (who holds the registration, when the cluster
 * counts as unreachable) over in-process fakes of the Kubernetes and platform clients.
 */

const OTHER_CONNECTION = "bbbbbbbbbbbbbbbbbbbbbbbb";

function installed(owner: string): { kube: FakeKube; platform: FakePlatform } {
  const kube = new FakeKube();
  kube.put(agentNamespace("gulfstream-uid", owner));
  kube.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "leftover",
      namespace: "gulfstream",
      labels: {
        "app.kubernetes.io/managed-by": "pulumi-enforce",
        [CONNECTION_LABEL]: CONNECTION_ID,
      },
    },
  });
  const platform = new FakePlatform();
  platform.clusters.push(
    clusterRecord({ id: `${GROUP}/cluster-old`, group: GROUP, remoteId: "gulfstream-uid" }),
  );
  return { kube, platform };
}

describe("delete: who holds the registration", () => {
  const state = storedState();
  const ns = { uid: state.remoteId, terminating: false };

  it("another connection that took the same installation over", () => {
    expect(replacementOf({ ...ns, owner: OTHER_CONNECTION }, state)).toBe(OTHER_CONNECTION);
  });

  it("this connection, when it still owns the namespace, nobody does, or it is another one", () => {
    expect(replacementOf(undefined, state)).toBeUndefined();
    expect(replacementOf({ ...ns, owner: CONNECTION_ID }, state)).toBeUndefined();
    expect(replacementOf({ ...ns, owner: undefined }, state)).toBeUndefined();
    expect(replacementOf({ ...ns, uid: "new", owner: OTHER_CONNECTION }, state)).toBeUndefined();
  });
});

describe("delete: when the cluster counts as unreachable", () => {
  it("a network failure at any time; any Kubernetes error before a client was made", () => {
    const net = new KubeUnreachableError("https://k", "refused");
    const config = new KubeconfigError("cannot load");
    const api = new KubeStatusError("GET /x", 403, "Forbidden", "");
    expect(isUnreachable(net, true)).toBe(true);
    expect(isUnreachable(config, false)).toBe(true);
    expect(isUnreachable(api, true)).toBe(false);
    expect(isUnreachable(new Error("platform"), false)).toBe(false);
  });
});

describe("deleteConnection", () => {
  it("uninstalls what it owns, unregisters, deletes identity and invite, closes the clients", async () => {
    const { kube, platform } = installed(CONNECTION_ID);
    const ctx = fakeContext(kube, platform);
    await deleteConnection(ctx, storedState({ inviteId: `${GROUP}/invite-old` }));
    expect([...kube.objects.values()].map((o) => o.metadata.name)).toEqual([]);
    expect(platform.changes).toEqual([
      `deleteCluster ${GROUP}/cluster-old`,
      `deleteIdentity ${GROUP}/identity-old`,
      `deleteInvite ${GROUP}/invite-old`,
    ]);
    expect(kube.closed && platform.closed).toBe(true);
  });

  it("deletes an identity named after the connection that is in no state (its answer was lost)", async () => {
    const { kube, platform } = installed(CONNECTION_ID);
    const identity = (name: string) =>
      platform.createIdentity(GROUP, {
        name,
        issuer: "",
        subject: "",
        issuerKeys: "",
        expiration: new Date(),
      });
    const stray = await identity(identityName(CONNECTION_ID));
    await identity(identityName(OTHER_CONNECTION));
    platform.changes.length = 0;
    const ctx = fakeContext(kube, platform);
    await deleteConnection(ctx, storedState({ clusterId: "", identityId: "" }));
    expect(platform.changes).toEqual([`deleteIdentity ${stray.id}`]);
    expect(platform.identities.map((i) => i.name)).toEqual([identityName(OTHER_CONNECTION)]);
    expect(ctx.lines).toContain(
      `deleting identity ${stray.id}, created for this connection by a call whose answer was lost`,
    );
  });

  it("after a takeover, leaves the installation and its registration to the replacement", async () => {
    const { kube, platform } = installed(OTHER_CONNECTION);
    const ctx = fakeContext(kube, platform);
    await deleteConnection(ctx, storedState());
    expect([...kube.objects.values()].map((o) => o.metadata.name)).toEqual(["gulfstream"]);
    expect(platform.changes).toEqual([`deleteIdentity ${GROUP}/identity-old`]);
    expect(ctx.lines).toContain(
      `connection ${OTHER_CONNECTION} has taken over the agent installation: leaving it and cluster ${GROUP}/cluster-old registered`,
    );
  });

  it("an unreachable cluster: ClusterUnreachableError, nothing deleted on the platform", async () => {
    const { kube, platform } = installed(CONNECTION_ID);
    kube.failWith = () => new KubeUnreachableError("https://k", "connection refused");
    const err = await deleteConnection(fakeContext(kube, platform), storedState()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClusterUnreachableError);
    expect((err as Error).message).toContain(`and unregister cluster ${GROUP}/cluster-old`);
    expect(platform.changes).toEqual([]);
    expect(kube.closed && platform.closed).toBe(true);
  });

  it("a kubeconfig that no longer loads: ClusterUnreachableError", async () => {
    const { kube, platform } = installed(CONNECTION_ID);
    const ctx = fakeContext(kube, platform);
    ctx.connect = () => Promise.reject(new KubeconfigError("cannot load the kubeconfig"));
    await expect(deleteConnection(ctx, storedState())).rejects.toBeInstanceOf(
      ClusterUnreachableError,
    );
    expect(platform.closed).toBe(true);
  });

  it("an API error once connected, or a platform error: rejected as is", async () => {
    const { kube, platform } = installed(CONNECTION_ID);
    const denied = new KubeStatusError("GET /x", 403, "Forbidden", "");
    kube.failWith = () => denied;
    await expect(deleteConnection(fakeContext(kube, platform), storedState())).rejects.toBe(denied);

    const second = installed(CONNECTION_ID);
    const down = new Error("platform down");
    second.platform.deleteIdentity = () => Promise.reject(down);
    const ctx = fakeContext(second.kube, second.platform);
    await expect(deleteConnection(ctx, storedState())).rejects.toBe(down);
    expect(second.platform.changes).toEqual([`deleteCluster ${GROUP}/cluster-old`]);
  });
});
