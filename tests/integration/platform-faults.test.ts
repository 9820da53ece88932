import * as fs from "node:fs";
import type { EnforceSection } from "../../local/platform-services";
import type { AuditClient, AuditEntry, FaultClient, FaultRequest } from "../../local/platform";
import { PartialFailureError } from "../../provider/errors";
import { createImplementation } from "../../provider/impl";
import { listObjects } from "../../provider/install/uninstall";
import { MANAGED_SELECTOR } from "../../provider/install/ownership";
import { KubeClient } from "../../provider/kube/client";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import { identityName } from "../../provider/lifecycle/apply/identity";
import {
  PlatformClient,
  PlatformHttpError,
  PlatformUnreachableError,
  type Cluster,
  type RetryOptions,
} from "../../provider/platform";
import { ClusterKey, jwksOf } from "../support/emulator-fixtures";
import {
  emulatorAuditClient,
  emulatorContext,
  emulatorFaultClient,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { flatOutputs } from "../support/connection-fixtures";
import { at } from "../support/fixture";

/**
 * The platform failing on each call the provider makes (500, 503, 429 with Retry-After, a
 * dropped connection, an outage longer than the retry bound), injected into the real emulator
 * (`--fault-injection`) and met by the provider's real platform client with its default retry
 * policy. The emulator's audit trail counts the attempts. Own environment: one private cluster,
 * made public by `exposeIssuerDiscovery` where a case says so.
 */
describe("platform faults", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let platform: PlatformClient;
  let faults: FaultClient;
  let auditTrail: AuditClient;
  const progress: string[] = [];

  const provider = createImplementation(() => emulatorContext(() => env.ready, progress));
  /** The provider's client: the emulator's settings, the default retry policy. */
  const providerClient = (retry?: RetryOptions) =>
    new PlatformClient({
      apiUrl: enforce.apiUrl,
      token: enforce.token,
      ca: fs.readFileSync(enforce.caFile, "utf8"),
      ...(retry ? { retry } : {}),
    });

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--fault-injection"]);
    enforce = env.ready.enforce as EnforceSection;
    platform = providerClient();
    faults = emulatorFaultClient(env.ready);
    auditTrail = emulatorAuditClient(env.ready);
  }, 600_000);
  afterEach(async () => {
    await faults?.clear();
  });
  afterAll(async () => {
    await platform?.close();
    await faults?.close();
    await auditTrail?.close();
    await stopOwnEnv(env);
  });

  const kubeconfig = () => fs.readFileSync(at(env.ready.clusters, 0).kubeconfig, "utf8");

  async function checked(extra: Record<string, unknown> = {}): Promise<CheckedInputs> {
    const res = await provider.check(
      {},
      {
        __provider: "serialized provider",
        resourceName: "faulty",
        kubeconfig: kubeconfig(),
        group: enforce.group,
        registrationTimeout: "90s",
        ...extra,
      },
    );
    expect(res.failures ?? []).toEqual([]);
    return { ...res.inputs, __provider: "serialized provider" } as CheckedInputs;
  }

  /** The provider's calls (the API's paths, not the issuer's or the emulator's own) after `seq`. */
  async function apiCalls(after: number): Promise<AuditEntry[]> {
    const entries = await auditTrail.audit(after);
    return entries.filter((e) => /^\/(iam|tenant)\//.test(e.path));
  }
  const lastSeq = async () => (await auditTrail.audit()).at(-1)?.seq ?? 0;
  const show = (e: AuditEntry) =>
    `${e.method} ${e.path.replace(/\/[0-9a-f/]{16,}$/, "/…")} ${e.status}`;

  async function expectNothingLeft(): Promise<void> {
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, 0).kubeconfig });
    try {
      expect(await listObjects(kube, MANAGED_SELECTOR)).toEqual([]);
    } finally {
      kube.close();
    }
    expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
  }

  // Each kind of fault, and what the failed attempt looks like in the audit trail.
  const KINDS: { name: string; rule: FaultRequest; audited: number }[] = [
    { name: "500", rule: { status: 500 }, audited: 500 },
    { name: "503", rule: { status: 503 }, audited: 503 },
    { name: "429 with Retry-After: 1", rule: { status: 429, retryAfterSeconds: 1 }, audited: 429 },
    { name: "a dropped connection", rule: { drop: true }, audited: 499 },
  ];

  describe("each call the provider makes, failed once", () => {
    const key = new ClusterKey();
    const fakeId = () => `${enforce.group}/0123456789abcdef`;
    /** Every method of the platform client, called as the lifecycle calls it. */
    const CALLS: {
      call: string;
      method: FaultRequest["method"];
      path: string;
      /** POST that may have taken effect: only 429 and 503 say it did not. */
      once?: true;
      run: () => Promise<unknown>;
    }[] = [
      {
        call: "createInvite",
        method: "POST",
        path: "/iam/v1/group_invites/",
        run: () => platform.createInvite(enforce.group, { ttlSeconds: 900 }),
      },
      {
        call: "deleteInvite",
        method: "DELETE",
        path: "/iam/v1/group_invites/",
        run: async () => {
          const invite = await platform.createInvite(enforce.group, { ttlSeconds: 900 });
          return platform.deleteInvite(invite.id);
        },
      },
      {
        call: "createIdentity",
        method: "POST",
        path: "/iam/v1/identities/",
        once: true,
        run: () =>
          platform.createIdentity(enforce.group, {
            name: "faults-matrix",
            issuer: "https://kubernetes.default.svc.cluster.local",
            subject: "system:serviceaccount:gulfstream:controller",
            issuerKeys: JSON.stringify(jwksOf(key)),
            expiration: new Date(Date.now() + 3600_000),
          }),
      },
      {
        call: "listIdentities",
        method: "GET",
        path: "/iam/v1/identities",
        run: () => platform.listIdentities({ childrenOf: enforce.group }),
      },
      {
        call: "deleteIdentity",
        method: "DELETE",
        path: "/iam/v1/identities/",
        run: async () => {
          const identity = await platform.createIdentity(enforce.group, {
            name: "faults-matrix-delete",
            issuer: "https://kubernetes.default.svc.cluster.local",
            subject: "system:serviceaccount:gulfstream:controller",
            issuerKeys: JSON.stringify(jwksOf(key)),
            expiration: new Date(Date.now() + 3600_000),
          });
          return platform.deleteIdentity(identity.id);
        },
      },
      {
        call: "listClusters",
        method: "GET",
        path: "/tenant/v1/clusters",
        run: () => platform.listClusters({ descendantsOf: enforce.group }),
      },
      {
        call: "updateCluster",
        method: "PUT",
        path: "/tenant/v1/clusters/",
        run: () =>
          platform.updateCluster({ id: fakeId(), name: "x", profiles: [] } as unknown as Cluster),
      },
      {
        call: "deleteCluster",
        method: "DELETE",
        path: "/tenant/v1/clusters/",
        run: () => platform.deleteCluster(fakeId()),
      },
    ];

    for (const kind of KINDS) {
      test(`${kind.name}: retried by every call but a POST that may have taken effect`, async () => {
        const retried = kind.audited === 503 || kind.audited === 429;
        for (const c of CALLS) {
          const before = await lastSeq();
          await faults.set({ ...kind.rule, method: c.method, path: c.path, times: 1 });
          const started = Date.now();
          const outcome = await c.run().then(
            () => "ok",
            (e: unknown) => e as Error,
          );
          const elapsed = Date.now() - started;
          const mine = (await apiCalls(before)).filter(
            (e) => e.method === c.method && e.path.startsWith(c.path),
          );
          const statuses = mine.map((e) => e.status);
          if (c.once && !retried) {
            // Not repeated: a second identity could be the result. The error says what happened.
            expect([c.call, statuses]).toEqual([c.call, [kind.audited]]);
            expect(outcome).toBeInstanceOf(
              kind.audited === 499 ? PlatformUnreachableError : PlatformHttpError,
            );
            expect((outcome as Error).message).toMatch(/^createIdentity: /);
            continue;
          }
          // The first attempt met the fault, the second the emulator itself.
          expect([c.call, statuses[0], statuses.length]).toEqual([c.call, kind.audited, 2]);
          if (c.call === "updateCluster") {
            expect(outcome).toBeInstanceOf(PlatformHttpError);
            expect((outcome as PlatformHttpError).statusCode).toBe(404);
            expect((outcome as PlatformHttpError).attempts).toBe(2);
          } else expect([c.call, outcome]).toEqual([c.call, "ok"]);
          // Retry-After is honoured: the default backoff alone waits under 500 ms.
          if (kind.audited === 429) expect(elapsed).toBeGreaterThanOrEqual(1000);
        }
        for (const i of await platform.listIdentities({ childrenOf: enforce.group })) {
          await platform.deleteIdentity(i.id);
        }
      }, 60_000);
    }

    test("a Retry-After beyond the policy's bound is capped", async () => {
      const capped = providerClient({ maxRetryAfterMs: 1500 });
      try {
        await faults.set({ status: 429, retryAfterSeconds: 3600, times: 1 });
        const started = Date.now();
        await expect(capped.listClusters()).resolves.toEqual(expect.any(Array));
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(1400);
        expect(elapsed).toBeLessThan(10_000);
      } finally {
        await capped.close();
      }
    });
  });

  describe("an outage longer than the retry bound", () => {
    const EXPECTED: Record<number, RegExp> = {
      500: /^listClusters: the Enforce platform answered GET \/tenant\/v1\/clusters\S* with HTTP 500 \(Internal\) after 5 attempts: "injected fault \(rule \d+\)"\. The platform is failing or unavailable; run again later\.$/,
      503: /^listClusters: .* with HTTP 503 \(Unavailable\) after 5 attempts: .*run again later\.$/,
      429: /^listClusters: .* with HTTP 429 \(ResourceExhausted\) after 5 attempts: .*The platform is rate-limiting this client; wait a little and run again\.$/,
      499: /^listClusters: could not reach the Enforce platform at https:\/\/127\.0\.0\.1:\d+ \(GET \/tenant\/v1\/clusters\S*\) after 5 attempts \(UND_ERR_SOCKET: .*\)\. Check that enforce:apiUrl \(or ENFORCE_API_URL\) is right and the platform is reachable from here\.$/,
    };
    for (const kind of KINDS) {
      test(`${kind.name}: a coded error after the policy's 5 attempts, within seconds`, async () => {
        const before = await lastSeq();
        await faults.set({ ...kind.rule, path: "/tenant/", forSeconds: 300 });
        const started = Date.now();
        const err = (await platform.listClusters().catch((e: unknown) => e)) as Error & {
          code: string;
          attempts: number;
          fix?: string;
        };
        const elapsed = Date.now() - started;
        expect(err.code).toBe(
          kind.audited === 499 ? "ERR_PLATFORM_UNREACHABLE" : "ERR_PLATFORM_HTTP",
        );
        expect(err.attempts).toBe(5);
        expect(err.message).toMatch(EXPECTED[kind.audited] as RegExp);
        expect(err.fix).toBeTruthy();
        // Backoff ceilings 0.5 + 1 + 2 + 4 s; with Retry-After: 1, four seconds.
        expect(elapsed).toBeLessThan(12_000);
        expect((await apiCalls(before)).map((e) => e.status)).toEqual(Array(5).fill(kind.audited));
      }, 30_000);
    }
  });

  describe("through the lifecycle", () => {
    /** One rule per distinct call a create or delete makes: each fails once. */
    const ONCE_EACH: Pick<FaultRequest, "method" | "path">[] = [
      { method: "GET", path: "/tenant/v1/clusters" },
      { method: "PUT", path: "/tenant/v1/clusters/" },
      { method: "DELETE", path: "/tenant/v1/clusters/" },
      { method: "POST", path: "/iam/v1/group_invites/" },
      { method: "DELETE", path: "/iam/v1/group_invites/" },
      { method: "POST", path: "/iam/v1/identities/" },
      { method: "GET", path: "/iam/v1/identities" },
      { method: "DELETE", path: "/iam/v1/identities/" },
    ];

    for (const kind of KINDS) {
      test(`${kind.name} on each call once: a public connection's create and delete retry through them`, async () => {
        const before = await lastSeq();
        for (const r of ONCE_EACH) await faults.set({ ...kind.rule, ...r, times: 1 });
        const inputs = await checked({ exposeIssuerDiscovery: true });
        const { id, outs } = await provider.create(inputs);
        expect(flatOutputs(outs).connectivity).toBe("public");
        await provider.delete(id, outs);
        const calls = await apiCalls(before);
        // Every call that met a fault was repeated and then answered by the emulator.
        const failed = calls.filter((e) => e.status === kind.audited);
        // A public connection makes no identity, and its settings needed no update.
        expect(failed.map(show).sort()).toEqual(
          [
            "GET /tenant/v1/clusters",
            "DELETE /tenant/v1/clusters/…",
            "POST /iam/v1/group_invites/…",
            "DELETE /iam/v1/group_invites/…",
            "GET /iam/v1/identities",
          ]
            .map((c) => `${c} ${kind.audited}`)
            .sort(),
        );
        for (const f of failed) {
          const next = calls.find(
            (e) => e.seq > f.seq && e.method === f.method && e.path === f.path,
          );
          expect([show(f), next && next.status < 500 && next.status !== 429]).toEqual([
            show(f),
            true,
          ]);
        }
        await expectNothingLeft();
      }, 180_000);
    }

    for (const kind of KINDS.filter((k) => k.audited === 500 || k.audited === 499)) {
      test(`${kind.name} on a private connection's createIdentity: a partial create the next up finishes`, async () => {
        await faults.set({ ...kind.rule, method: "POST", path: "/iam/v1/identities/", times: 1 });
        const inputs = await checked();
        const err = await provider.create(inputs).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PartialFailureError);
        const partial = err as PartialFailureError;
        expect(partial.message).toMatch(
          /^createIdentity: .* The connection was partly created and is kept in the stack: run `pulumi up` again to finish it, or `pulumi destroy` to remove what was installed\.$/s,
        );
        expect(partial.causeCode).toBe(
          kind.audited === 499 ? "ERR_PLATFORM_UNREACHABLE" : "ERR_PLATFORM_HTTP",
        );
        const done = await provider.update(partial.id, partial.properties, await checked());
        const state = flatOutputs(done.outs);
        expect(state.connectivity).toBe("private");
        expect(
          (await platform.listIdentities({ childrenOf: enforce.group })).map((i) => i.id),
        ).toEqual([state.identityId]);
        await provider.delete(partial.id, done.outs);
        await expectNothingLeft();
      }, 180_000);
    }

    test("an identity created by a call whose answer was lost is retired by the next up", async () => {
      await faults.set({
        drop: true,
        method: "POST",
        path: "/iam/v1/identities/",
        afterHandling: true,
        times: 1,
      });
      const err = (await provider
        .create(await checked())
        .catch((e: unknown) => e)) as PartialFailureError;
      expect(err).toBeInstanceOf(PartialFailureError);
      // The platform has it; the state does not.
      const named = identityName(err.id);
      expect(
        (await platform.listIdentities({ childrenOf: enforce.group })).map((i) => i.name),
      ).toEqual([named]);
      expect(flatOutputs(err.properties).identityId).toBe("");
      const done = await provider.update(err.id, err.properties, await checked());
      expect(
        (await platform.listIdentities({ childrenOf: enforce.group })).map((i) => i.id),
      ).toEqual([flatOutputs(done.outs).identityId]);
      await provider.delete(err.id, done.outs);
      await expectNothingLeft();
    }, 180_000);

    test("an identity created by a call whose answer was lost is removed by delete", async () => {
      await faults.set({
        status: 500,
        method: "POST",
        path: "/iam/v1/identities/",
        afterHandling: true,
        times: 1,
      });
      const err = (await provider
        .create(await checked())
        .catch((e: unknown) => e)) as PartialFailureError;
      expect(err).toBeInstanceOf(PartialFailureError);
      expect(await platform.listIdentities({ childrenOf: enforce.group })).toHaveLength(1);
      await provider.delete(err.id, err.properties);
      await expectNothingLeft();
      expect(progress.join("\n")).toMatch(
        /created for this connection by a call whose answer was lost/,
      );
    }, 180_000);

    test("an outage during create ends in a partial create within the bound; after it, up converges and delete cleans up", async () => {
      const inputs = await checked({ exposeIssuerDiscovery: true });
      await faults.set({ status: 503, path: "/iam/", forSeconds: 600 });
      await faults.set({ status: 503, path: "/tenant/", forSeconds: 600 });
      const started = Date.now();
      const err = (await provider.create(inputs).catch((e: unknown) => e)) as PartialFailureError;
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(err).toBeInstanceOf(PartialFailureError);
      expect(err.causeCode).toBe("ERR_PLATFORM_HTTP");
      expect(err.message).toMatch(
        /^createInvite: the Enforce platform answered POST \/iam\/v1\/group_invites\/\S+ with HTTP 503 \(Unavailable\) after 5 attempts: .*run again later\. The connection was partly created and is kept in the stack: run `pulumi up` again/s,
      );
      // Delete during the outage fails too, says so, and keeps the connection.
      const deleting = await provider.delete(err.id, err.properties).catch((e: unknown) => e);
      expect((deleting as { code?: string }).code).toMatch(/^ERR_PLATFORM_/);

      await faults.clear();
      const done = await provider.update(
        err.id,
        err.properties,
        await checked({ exposeIssuerDiscovery: true }),
      );
      expect(flatOutputs(done.outs).clusterId).not.toBe("");

      // A refresh during an outage fails with the platform's error and changes nothing.
      await faults.set({ drop: true, path: "/tenant/", forSeconds: 600 });
      const reading = await provider.read(err.id, done.outs).catch((e: unknown) => e);
      expect((reading as { code?: string }).code).toBe("ERR_PLATFORM_UNREACHABLE");
      expect((reading as Error).message).toMatch(
        /^listClusters: could not reach .* after 5 attempts/,
      );
      await faults.clear();
      expect(flatOutputs((await provider.read(err.id, done.outs)).props).clusterId).toBe(
        flatOutputs(done.outs).clusterId,
      );
      await provider.delete(err.id, done.outs);
      await expectNothingLeft();
    }, 180_000);
  });
});
