import * as providerErrors from "../../provider/errors";
import {
  ClusterUnreachableError,
  DeleteTimeoutError,
  WebhookLeftError,
  KeysUnreadableError,
  ManifestError,
  NamespaceTerminatingError,
  PartialFailureError,
  CheckFailedError,
  PrerequisiteError,
  RegisteredElsewhereError,
  RegistrationLostError,
  RegistrationTimeoutError,
} from "../../provider/errors";
import { deleteObjects } from "../../provider/install/uninstall";
import type { KubeClient } from "../../provider/kube/client";
import * as kubeErrors from "../../provider/kube/errors";
import {
  KubeconfigError,
  KubeError,
  KubeResponseTooLargeError,
  KubeStatusError,
  KubeUnreachableError,
} from "../../provider/kube/errors";
import * as platformErrors from "../../provider/platform/errors";
import {
  PlatformConfigError,
  PlatformError,
  PlatformHttpError,
  PlatformResponseError,
  PlatformUnreachableError,
} from "../../provider/platform/errors";
import { EnforceError, errorCode } from "../../provider/util/errors";
import * as waitModule from "../../provider/util/wait";
import { waitFor, WaitTimeoutError } from "../../provider/util/wait";

type ErrorClass = (abstract new (...args: never[]) => EnforceError) & { code?: string };

/** One instance of every concrete error class, made as its throw site makes it. */
const SAMPLES: Record<string, () => EnforceError> = {
  CheckFailedError: () =>
    new CheckFailedError([{ property: "kubeconfig", reason: "refused. Fix: use another." }]),
  PrerequisiteError: () =>
    new PrerequisiteError([
      { property: "connectivity", reason: "no issuer.", remedy: "expose it." },
    ]),
  RegistrationTimeoutError: () =>
    new RegistrationTimeoutError("the agent did not register. What to do: read its log.", {
      fix: "read its log.",
      clusterName: "dev",
      group: "g",
      remoteId: "r",
      identityId: "",
      timeoutSeconds: 600,
    }),
  RegisteredElsewhereError: () =>
    new RegisteredElsewhereError("registered elsewhere", { clusterId: "c", group: "other" }),
  RegistrationLostError: () => new RegistrationLostError("c"),
  NamespaceTerminatingError: () => new NamespaceTerminatingError("gulfstream"),
  KeysUnreadableError: () => new KeysUnreadableError("https://issuer.example"),
  ClusterUnreachableError: () => new ClusterUnreachableError("cannot refresh", { clusterId: "c" }),
  ManifestError: () => new ManifestError('manifests: no agent image for container "x"'),
  DeleteTimeoutError: () => new DeleteTimeoutError("timed out", ["Namespace gulfstream"]),
  WebhookLeftError: () =>
    new WebhookLeftError(
      "gulfstream",
      ["ValidatingWebhookConfiguration other.example.com"],
      ["kubectl delete validatingwebhookconfiguration other.example.com"],
    ),
  PartialFailureError: () => new PartialFailureError("id", {}, new Error("boom")),
  KubeStatusError: () => new KubeStatusError("GET /api", 403, "Forbidden", "no"),
  KubeUnreachableError: () => new KubeUnreachableError("https://k:6443", "connection refused"),
  KubeResponseTooLargeError: () =>
    new KubeResponseTooLargeError("GET /openid/v1/jwks", "https://k:6443", 1024 * 1024),
  KubeconfigError: () => new KubeconfigError("cannot load /k.yaml: ENOENT", { path: "/k.yaml" }),
  PlatformHttpError: () =>
    new PlatformHttpError({
      call: "listClusters",
      method: "GET",
      path: "/registry/v1/clusters",
      statusCode: 404,
      grpcCode: 5,
      platformMessage: "not found",
      headers: {},
      body: "",
      attempts: 1,
      credential: "platform-token",
    }),
  PlatformUnreachableError: () =>
    new PlatformUnreachableError({
      call: "listClusters",
      method: "GET",
      origin: "https://api.example",
      path: "/registry/v1/clusters",
      attempts: 2,
      reason: "connection",
      causeCode: "ECONNREFUSED",
      timeoutMs: 1000,
      urlSetting: { key: "enforce:apiUrl", envVar: "ENFORCE_API_URL" },
      cause: undefined,
    }),
  PlatformResponseError: () =>
    new PlatformResponseError({
      call: "createInvite",
      method: "POST",
      path: "/registry/v1/invites",
      statusCode: 200,
      problem: "body.code is missing",
    }),
  PlatformConfigError: () =>
    new PlatformConfigError({
      key: "enforce:token",
      envVar: "ENFORCE_TOKEN",
      problem: "is not set",
      fix: "Set it.",
    }),
  WaitTimeoutError: () => new WaitTimeoutError("Namespace gulfstream to be deleted", 1000, "x"),
};

/** A new instance of the named class from {@link SAMPLES}; throws if it has none. */
function sample(name: string): EnforceError {
  const make = SAMPLES[name];
  if (!make) throw new Error(`SAMPLES has no ${name}`);
  return make();
}

/** Every error class the error modules export, abstract bases included. */
const exported = [providerErrors, kubeErrors, platformErrors, waitModule].flatMap((module) =>
  Object.entries(module).filter(
    (entry): entry is [string, ErrorClass] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof EnforceError,
  ),
);
const concrete = exported.filter(([, cls]) => Object.hasOwn(cls, "code"));

describe("one error convention", () => {
  test("every exported concrete error class has a distinct ERR_<AREA>_<WHAT> code", () => {
    const codes = concrete.map(([, cls]) => cls.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z]+(_[A-Z]+)+$/);
    // The bases are the abstract ones only.
    expect(exported.filter(([, cls]) => !Object.hasOwn(cls, "code")).map(([name]) => name)).toEqual(
      expect.arrayContaining(["ProviderError", "RegistrationError", "KubeError", "PlatformError"]),
    );
    expect(exported.length - concrete.length).toBe(4);
  });

  test("each instance carries its class's code, its name, and derives from the one base", () => {
    expect(concrete.map(([name]) => name).sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const [name, cls] of concrete) {
      const err = sample(name);
      expect(err).toBeInstanceOf(cls);
      expect(err).toBeInstanceOf(EnforceError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(cls.code);
      expect(err.name).toBe(name);
    }
  });

  test("a platform error and a kube error are both instances of the base", () => {
    const platform = sample("PlatformHttpError");
    const kube = sample("KubeStatusError");
    expect(platform).toBeInstanceOf(PlatformError);
    expect(platform).toBeInstanceOf(EnforceError);
    expect(kube).toBeInstanceOf(KubeError);
    expect(kube).toBeInstanceOf(EnforceError);
  });

  test("the fix is the advice the message ends with", () => {
    for (const name of [
      "RegistrationLostError",
      "NamespaceTerminatingError",
      "KeysUnreadableError",
      "ManifestError",
      "DeleteTimeoutError",
      "WebhookLeftError",
      "KubeUnreachableError",
      "KubeResponseTooLargeError",
      "PlatformHttpError",
      "PlatformUnreachableError",
      "PlatformConfigError",
    ]) {
      const err = sample(name);
      expect(err.fix).toBeTruthy();
      expect(err.message.endsWith(err.fix!)).toBe(true);
    }
    expect(new NamespaceTerminatingError("gulfstream").message).toBe(
      "namespace gulfstream is being deleted, so the agent cannot be installed into it yet. " +
        "Fix: wait until it is gone (kubectl get namespace gulfstream), then run `pulumi up` again.",
    );
    expect(new RegistrationLostError("c1").message).toBe(
      "cluster c1 is no longer registered with Enforce (deleted while this update ran?). " +
        "Run `pulumi up` again to register it anew.",
    );
  });

  test("errors keep the ids they talk about as fields", () => {
    expect(sample("RegistrationTimeoutError")).toMatchObject({
      clusterName: "dev",
      group: "g",
      remoteId: "r",
      identityId: "",
      timeoutSeconds: 600,
      fix: "read its log.",
    });
    expect(sample("RegisteredElsewhereError")).toMatchObject({ clusterId: "c", group: "other" });
    expect(new RegistrationLostError("c1")).toMatchObject({ clusterId: "c1" });
    expect(sample("KubeconfigError")).toMatchObject({ path: "/k.yaml", context: undefined });
  });
});

describe("PartialFailureError", () => {
  const properties = { __state: { clusterId: "" } };

  test("keeps the cause's code in its reasons", () => {
    const cause = new KubeUnreachableError(
      "https://k:6443",
      "connection refused (is the cluster running?)",
    );
    const err = new PartialFailureError("0123", properties, cause);
    expect(err.causeCode).toBe("ERR_KUBE_UNREACHABLE");
    expect(err.reasons).toEqual([
      `ERR_KUBE_UNREACHABLE: ${cause.message}`,
      "The connection was partly created and is kept in the stack: " +
        "run `pulumi up` again to finish it, or `pulumi destroy` to remove what was installed.",
    ]);
    expect(err.cause).toBe(cause);
    expect(err.message).toBe(
      `${cause.message} The connection was partly created and is kept in the stack: ` +
        "run `pulumi up` again to finish it, or `pulumi destroy` to remove what was installed.",
    );
  });

  test("says updated when the connection had been registered", () => {
    const err = new PartialFailureError("0123", properties, new Error("boom."), true);
    expect(err.message).toMatch(/^boom\. The connection was partly updated and is kept/);
  });

  test("every coded cause keeps its code", () => {
    for (const make of Object.values(SAMPLES)) {
      const cause = make();
      const err = new PartialFailureError("0123", properties, cause);
      expect(err.reasons[0]).toBe(`${cause.code}: ${cause.message}`);
    }
  });

  test("a cause without a code is given as it is", () => {
    const err = new PartialFailureError("0123", properties, new Error("boom"));
    expect(err.causeCode).toBeUndefined();
    expect(err.reasons[0]).toBe("boom");
    expect(errorCode(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe("ECONNRESET");
  });
});

describe("timeouts", () => {
  test("waitFor throws a coded WaitTimeoutError saying what was awaited and last seen", async () => {
    const err = await waitFor(
      "the answer",
      async () => {
        throw new Error("not yet");
      },
      { timeoutMs: 0, intervalMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({
      code: "ERR_WAIT_TIMEOUT",
      what: "the answer",
      last: "not yet",
      message: "timed out after 0s waiting for the answer (last: not yet)",
    });
  });

  test("a delete that finalizers hold past the deadline says what to do", async () => {
    const terminating = {
      kind: "Namespace",
      metadata: { deletionTimestamp: "2024-01-01T00:00:00Z" },
    };
    const client = {
      delete: async () => ({ status: 200, body: terminating }),
      get: async () => ({ status: 200, body: terminating }),
    } as unknown as KubeClient;
    const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "gulfstream" } };
    const err = await deleteObjects(client, [namespace], { finalizeTimeoutMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeleteTimeoutError);
    const timeout = err as DeleteTimeoutError;
    expect(timeout.code).toBe("ERR_INSTALL_DELETE_TIMEOUT");
    expect(timeout.objects).toEqual(["Namespace gulfstream"]);
    expect(timeout.cause).toBeInstanceOf(WaitTimeoutError);
    expect(timeout.message).toMatch(
      /^timed out after 0s waiting for Namespace gulfstream to be deleted \(last: no answer yet\)\. Fix: .*kubectl get <kind> <name> -o yaml.*run the Pulumi command again/,
    );
    expect(timeout.message.endsWith(timeout.fix!)).toBe(true);
  });
});
