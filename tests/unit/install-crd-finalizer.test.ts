import {
  RETRY_ANNOTATION,
  finalizerFailed,
  instancesPath,
  retryFinalizer,
  type CrdObject,
} from "../../provider/install/crd-finalizer";
import { deleteObjects } from "../../provider/install/uninstall";
import type { KubeClient, RequestOptions } from "../../provider/kube/client";

const CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.dev";

/** A CRD being deleted; `failed`: its finalizer could not list its instances. */
function terminating(failed: boolean): CrdObject {
  return {
    metadata: { name: "things.example.dev", deletionTimestamp: "2026-12-02T04:00:00Z" },
    spec: {
      group: "example.dev",
      names: { plural: "things" },
      versions: [
        { name: "v1alpha1", storage: false },
        { name: "v1", storage: true },
      ],
    },
    status: {
      conditions: [
        {
          type: "Terminating",
          status: "True",
          reason: failed ? "InstanceDeletionFailed" : "InstanceDeletionInProgress",
        },
      ],
    },
  };
}

/**
 * A client whose answers a test scripts: `answer(method, path)` gives the status and body; every
 * request is recorded with its options.
 */
function scripted(answer: (method: string, path: string) => { status: number; body?: unknown }) {
  const calls: Array<{ method: string; path: string; opts: RequestOptions }> = [];
  const request = async (method: string, path: string, opts: RequestOptions = {}) => {
    calls.push({ method, path, opts });
    const { status, body } = answer(method, path);
    if (status >= 300 && !opts.accept?.includes(status))
      throw new Error(`${method} ${path}: ${status}`);
    return { status, body };
  };
  const client = {
    request,
    get: (path: string, opts?: RequestOptions) => request("GET", path, opts),
    delete: (path: string, opts?: RequestOptions) => request("DELETE", path, opts),
  } as unknown as KubeClient;
  return { client, calls };
}

describe("a CRD whose finalizer failed to clean its instances", () => {
  test("is recognised by its Terminating condition's reason, only while being deleted", () => {
    expect(finalizerFailed(terminating(true))).toBe(true);
    expect(finalizerFailed(terminating(false))).toBe(false);
    expect(finalizerFailed({ ...terminating(true), metadata: { name: "x" } })).toBe(false);
    expect(finalizerFailed({})).toBe(false);
  });

  test("its instances are listed at its storage version", () => {
    expect(instancesPath(terminating(true))).toBe("/apis/example.dev/v1/things");
    expect(instancesPath({ spec: { group: "example.dev" } })).toBeUndefined();
  });

  test("while the instances' cache answers 429, the CRD is left alone", async () => {
    const { client, calls } = scripted(() => ({ status: 429 }));
    expect(await retryFinalizer(client, CRD_PATH, terminating(true), new Date(0))).toBe(false);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /apis/example.dev/v1/things"]);
  });

  test("once the cache answers, an annotation on the CRD makes the finalizer try again", async () => {
    const { client, calls } = scripted(() => ({ status: 200, body: {} }));
    const now = new Date("2026-12-02T04:00:05Z");
    expect(await retryFinalizer(client, CRD_PATH, terminating(true), now)).toBe(true);
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch).toMatchObject({
      path: CRD_PATH,
      opts: {
        contentType: "application/merge-patch+json",
        body: { metadata: { annotations: { [RETRY_ANNOTATION]: "2026-12-02T04:00:05.000Z" } } },
      },
    });
  });

  test("deleting waits for it, helping the finalizer along until the CRD is gone", async () => {
    let polls = 0;
    let patched = false;
    const { client, calls } = scripted((method, path) => {
      if (method === "DELETE") return { status: 200, body: terminating(false) };
      if (method === "PATCH") return ((patched = true), { status: 200, body: {} });
      if (path.startsWith("/apis/example.dev/")) return { status: 200, body: { items: [] } };
      // The finalizer succeeds only once it was made to try again.
      polls++;
      return patched && polls > 3 ? { status: 404 } : { status: 200, body: terminating(true) };
    });
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "things.example.dev" },
    };
    await deleteObjects(client, [crd], { finalizeTimeoutMs: 10_000 });
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1);
  });
});
