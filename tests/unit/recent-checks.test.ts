import type { ClusterFacts } from "../../provider/checks/cluster-checks";
import { RECENT_CHECK_MS, RecentChecks } from "../../provider/lifecycle/recent-checks";

const URN = "urn:pulumi:dev::fleet::pulumi-enforce:index:EnforceClusterConnection::east";
const facts = { clusterUid: "uid-1", issuer: "https://issuer.example" } as ClusterFacts;
const checked = { clusterName: "east", group: "g", issuer: "https://issuer.example" };

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("what a check observed, for the apply right after it", () => {
  it("is given to the apply of the same checked inputs once, the engine's __provider aside", () => {
    const recent = new RecentChecks(clock().now);
    recent.remember(URN, checked, facts);
    expect(recent.take(URN, { ...checked, __provider: "serialized" })).toBe(facts);
    expect(recent.take(URN, checked)).toBeUndefined();
  });

  it("is not given for other inputs, another connection, or after a failed check", () => {
    const recent = new RecentChecks(clock().now);
    recent.remember(URN, checked, facts);
    expect(recent.take(`${URN}-2`, checked)).toBeUndefined();
    expect(recent.take(URN, { ...checked, group: "h" })).toBeUndefined();
    recent.remember(URN, checked, facts);
    recent.forget(URN);
    expect(recent.take(URN, checked)).toBeUndefined();
  });

  it(`is not given once ${RECENT_CHECK_MS / 1000} s have passed, and old entries are dropped`, () => {
    const c = clock();
    const recent = new RecentChecks(c.now);
    recent.remember(URN, checked, facts);
    c.advance(RECENT_CHECK_MS + 1);
    expect(recent.take(URN, checked)).toBeUndefined();
    recent.remember(URN, checked, facts);
    c.advance(RECENT_CHECK_MS + 1);
    recent.remember(`${URN}-2`, checked, facts);
    c.advance(-RECENT_CHECK_MS - 1);
    // Dropped when the later check was remembered, though the clock went back.
    expect(recent.take(URN, checked)).toBeUndefined();
  });

  it("keeps nothing for a check without a URN", () => {
    const recent = new RecentChecks(clock().now);
    recent.remember("", checked, facts);
    expect(recent.take("", checked)).toBeUndefined();
  });
});
