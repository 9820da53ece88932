import { ClusterUnreachableError } from "../../provider/errors";
import { KubeUnreachableError } from "../../provider/kube/errors";
import { readConnection } from "../../provider/lifecycle/read-connection";
import {
  CONNECTION_ID,
  FakeKube,
  FakePlatform,
  agentNamespace,
  clusterRecord,
  fakeContext,
  storedState,
} from "../support/lifecycle-fakes";

/**
 * The rules by which `readConnection` reports a connection deleted or keeps its state as it is,
 * decided before the cluster checks run, over in-process fakes: no environment needed.
 */

const STATE = storedState();

function setup() {
  const kube = new FakeKube();
  const platform = new FakePlatform();
  const ctx = fakeContext(kube, platform);
  kube.put(agentNamespace(STATE.remoteId, CONNECTION_ID));
  platform.clusters.push(clusterRecord({ id: STATE.clusterId, remoteId: STATE.remoteId }));
  return { kube, platform, ctx };
}

describe("readConnection reports the connection deleted", () => {
  test("when the agent namespace is gone", async () => {
    const { kube, platform, ctx } = setup();
    kube.objects.clear();
    await expect(readConnection(ctx, STATE)).resolves.toBeUndefined();
    expect(ctx.lines).toEqual([expect.stringContaining("gulfstream is gone")]);
    expect(kube.closed && platform.closed).toBe(true);
  });

  test("when the agent namespace was replaced (another UID) or is being deleted", async () => {
    for (const namespace of [
      agentNamespace("another-uid", CONNECTION_ID),
      agentNamespace(STATE.remoteId, CONNECTION_ID, { deletionTimestamp: "2026-11-27T11:00:00Z" }),
    ]) {
      const { kube, ctx } = setup();
      kube.put(namespace);
      await expect(readConnection(ctx, STATE)).resolves.toBeUndefined();
      expect(ctx.lines).toEqual([expect.stringContaining("was replaced or is being deleted")]);
    }
  });

  test("when the platform no longer lists its cluster, or lists it for another namespace", async () => {
    for (const clusters of [[], [clusterRecord({ id: STATE.clusterId, remoteId: "other" })]]) {
      const { platform, ctx } = setup();
      platform.clusters = clusters;
      await expect(readConnection(ctx, STATE)).resolves.toBeUndefined();
      expect(ctx.lines).toEqual([expect.stringContaining("is no longer registered with Enforce")]);
    }
  });
});

describe("readConnection keeps the state as it is", () => {
  test("when creation did not finish (no cluster id): nothing is contacted", async () => {
    const { kube, ctx } = setup();
    const state = storedState({ clusterId: "" });
    await expect(readConnection(ctx, state)).resolves.toBe(state);
    expect(kube.calls).toEqual([]);
  });

  test("when it is registered at a platform other than the configured one", async () => {
    const { platform, ctx } = setup();
    platform.clusters = [];
    const state = storedState({ platform: { ...STATE.platform, apiUrl: "https://old.example" } });
    await expect(readConnection(ctx, state)).resolves.toBe(state);
    expect(ctx.lines).toEqual([
      expect.stringContaining("is registered at https://old.example, not at the configured"),
    ]);
  });
});

test("an unreachable cluster is a ClusterUnreachableError naming the connection", async () => {
  const { kube, platform, ctx } = setup();
  kube.failWith = () => new KubeUnreachableError("https://127.0.0.1:6443", "connection refused");
  const read = readConnection(ctx, STATE);
  await expect(read).rejects.toBeInstanceOf(ClusterUnreachableError);
  await expect(read).rejects.toMatchObject({
    clusterId: STATE.clusterId,
    message: expect.stringContaining(`cannot refresh connection "prod"`),
  });
  expect(kube.closed && platform.closed).toBe(true);
});
