/**
 * The agent stand-in's view of its pod, pure parts: which file and environment variable comes
 * from where in the pod template (as a kubelet would set the container up), the platform
 * settings resolved from them, and the projected tokens they declare. The template is the one
 * the connection renders from `manifests/agent/`, unless a case needs an odd one.
 */
import type { V1PodTemplateSpec } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { MintedToken } from "../../../local/agent/kube";
import { KUBE_TOKEN_PATH, PLATFORM_TOKEN_PATH } from "../../../local/agent/names";
import { readPlatformSettings } from "../../../local/agent/platform";
import { PodView, type TokenSpec } from "../../../local/agent/pod";
import { Projection } from "../../../local/agent/projection";
import { agentObjects, type InstallationSpec } from "../../../provider/install/manifests";
import type { AgentPlatform } from "../../../provider/install/platform-settings";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PLATFORM: AgentPlatform = {
  apiUrl: "https://api.example",
  issuerUrl: "https://issuer.example",
  ca: CA,
};

function rendered(platform: AgentPlatform = PLATFORM) {
  const spec: InstallationSpec = {
    connectionId: "0123456789abcdef01234567",
    clusterName: "prod",
    profiles: ["observer"],
    enforcerOptions: {
      enableCipCache: false,
      namespaceEnforcementMode: "opt-in",
      webhookFailOpen: false,
    },
    agentImages: {},
    platform,
  };
  const objects = agentObjects(spec);
  const sts = objects.find((o) => o.kind === "StatefulSet")!;
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "config-platform")!;
  return {
    template: structuredClone((sts.spec as { template: V1PodTemplateSpec }).template),
    data: { ...(cm.data as Record<string, string>) },
  };
}

function view(template: V1PodTemplateSpec, container = "controller"): PodView {
  const v = PodView.of(template, container);
  if (typeof v === "string") throw new Error(v);
  return v;
}

/** A template of one container "controller" with these mounts, volumes and env. */
function template(spec: {
  mounts?: { name: string; mountPath: string }[];
  volumes?: NonNullable<V1PodTemplateSpec["spec"]>["volumes"];
  env?: NonNullable<NonNullable<V1PodTemplateSpec["spec"]>["containers"][number]["env"]>;
}): V1PodTemplateSpec {
  return {
    spec: {
      containers: [{ name: "controller", volumeMounts: spec.mounts, env: spec.env }],
      volumes: spec.volumes,
    },
  };
}

describe("agent pod: files and environment of the container", () => {
  test("the rendered template projects the API token (no audience, 3607 s) and the platform token (gulfstream, 600 s)", () => {
    const pod = view(rendered().template);
    expect(pod.fileAt(KUBE_TOKEN_PATH)).toEqual({
      kind: "token",
      token: { audience: undefined, expirationSeconds: 3607 },
    });
    expect(pod.fileAt(PLATFORM_TOKEN_PATH)).toEqual({
      kind: "token",
      token: { audience: "gulfstream", expirationSeconds: 600 },
    });
    // The sts container mounts the same volumes.
    expect(view(rendered().template, "sts").fileAt(PLATFORM_TOKEN_PATH)).toEqual(
      pod.fileAt(PLATFORM_TOKEN_PATH),
    );
  });

  test("ConfigMap files: by items in a projected or a configMap volume, optional as declared", () => {
    const pod = view(rendered().template);
    expect(pod.fileAt("/var/run/enforce/platform/ca.crt")).toEqual({
      kind: "configMap",
      ref: { name: "config-platform", key: "ca.crt", optional: true },
    });
    expect(pod.fileAt("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")).toEqual({
      kind: "configMap",
      ref: { name: "kube-root-ca.crt", key: "ca.crt", optional: false },
    });
    // Items name the only files: another key of the ConfigMap is not there.
    expect(pod.fileAt("/var/run/enforce/platform/api-url")).toBeUndefined();
    // A downward-API file is neither a token nor a ConfigMap key.
    expect(pod.fileAt("/var/run/secrets/kubernetes.io/serviceaccount/namespace")).toEqual({
      kind: "other",
      volume: "kube-api-access",
    });
  });

  test("a configMap volume without items holds every key as a file of its own name", () => {
    const pod = view(
      template({
        mounts: [{ name: "cfg", mountPath: "/etc/cfg/" }],
        volumes: [{ name: "cfg", configMap: { name: "settings" } }],
      }),
    );
    expect(pod.fileAt("/etc/cfg/any-key")).toEqual({
      kind: "configMap",
      ref: { name: "settings", key: "any-key", optional: false },
    });
    expect(pod.fileAt("/etc/cfg/sub/dir")).toBeUndefined();
    expect(pod.fileAt("/etc/cfg")).toBeUndefined();
  });

  test("a projected token without expirationSeconds lives the kubelet's default 3600 s", () => {
    const pod = view(
      template({
        mounts: [{ name: "tok", mountPath: "/var/run/tok" }],
        volumes: [
          {
            name: "tok",
            projected: { sources: [{ serviceAccountToken: { path: "t", audience: "aud" } }] },
          },
        ],
      }),
    );
    expect(pod.fileAt("/var/run/tok/t")).toEqual({
      kind: "token",
      token: { audience: "aud", expirationSeconds: 3600 },
    });
    expect(pod.fileAt("/var/run/tok/other")).toEqual({ kind: "other", volume: "tok" });
  });

  test("the longest mount path covering a file wins, whatever the order of the mounts", () => {
    const volumes = [
      { name: "outer", configMap: { name: "outer-cm" } },
      {
        name: "inner",
        projected: {
          sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 900 } }],
        },
      },
    ];
    const inner = { name: "inner", mountPath: "/var/run/a/b" };
    const outer = { name: "outer", mountPath: "/var/run/a" };
    for (const mounts of [
      [outer, inner],
      [inner, outer],
    ]) {
      const pod = view(template({ mounts, volumes }));
      expect(pod.fileAt("/var/run/a/b/token")).toEqual({
        kind: "token",
        token: { audience: undefined, expirationSeconds: 900 },
      });
      expect(pod.fileAt("/var/run/a/token")).toEqual({
        kind: "configMap",
        ref: { name: "outer-cm", key: "token", optional: false },
      });
    }
    // A mount path is a directory, not a prefix of names.
    expect(
      view(template({ mounts: [outer], volumes })).fileAt("/var/run/ab/token"),
    ).toBeUndefined();
  });

  test("a path no mount covers, or a mount of a volume that does not exist, is no file", () => {
    const pod = view(rendered().template);
    expect(pod.fileAt("/etc/passwd")).toBeUndefined();
    expect(pod.fileAt("/var/run/chainguard/oidc")).toBeUndefined();
    const dangling = view(template({ mounts: [{ name: "gone", mountPath: "/gone" }] }));
    expect(dangling.fileAt("/gone/token")).toBeUndefined();
  });

  test("environment variables: a literal, a ConfigMap key (optional as declared), or none", () => {
    const pod = view(rendered().template);
    expect(pod.env("ENFORCE_API_URL")).toEqual({
      kind: "configMap",
      ref: { name: "config-platform", key: "api-url", optional: false },
    });
    expect(pod.env("ENFORCE_ISSUER_URL")).toEqual({
      kind: "configMap",
      ref: { name: "config-platform", key: "issuer-url", optional: false },
    });
    expect(pod.env("ENFORCE_CA_FILE")).toEqual({
      kind: "value",
      value: "/var/run/enforce/platform/ca.crt",
    });
    expect(pod.env("NOT_SET")).toBeUndefined();
    const optional = view(
      template({
        env: [
          { name: "X", valueFrom: { configMapKeyRef: { name: "m", key: "k", optional: true } } },
        ],
      }),
    );
    expect(optional.env("X")).toEqual({
      kind: "configMap",
      ref: { name: "m", key: "k", optional: true },
    });
  });

  test("a template without the container gives a reason instead of a view", () => {
    expect(PodView.of(rendered().template, "agent")).toBe(
      'the pod template has no container "agent"',
    );
    expect(PodView.of(undefined, "controller")).toBe(
      'the pod template has no container "controller"',
    );
  });
});

describe("agent pod: platform settings", () => {
  /** readConfigMap over `maps`, counting reads. */
  function configMaps(maps: Record<string, Record<string, string>>) {
    const reads: string[] = [];
    return {
      reads,
      read: async (name: string) => {
        reads.push(name);
        return maps[name] ? { ...maps[name] } : undefined;
      },
    };
  }

  test("all present: the URLs and the CA of the installed ConfigMap, read once", async () => {
    const { template, data } = rendered();
    const maps = configMaps({ "config-platform": data });
    const r = await readPlatformSettings(view(template), maps.read);
    expect(r).toEqual({
      ok: true,
      settings: {
        apiUrl: "https://api.example",
        issuerUrl: "https://issuer.example",
        ca: CA,
        digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(maps.reads).toEqual(["config-platform"]);
  });

  test("the digest changes with each setting; a trailing slash of a URL is dropped", async () => {
    const digest = async (platform: AgentPlatform) => {
      const { template, data } = rendered(platform);
      const r = await readPlatformSettings(
        view(template),
        configMaps({ "config-platform": data }).read,
      );
      if (!r.ok) throw new Error(r.reason);
      return r.settings;
    };
    const base = await digest(PLATFORM);
    expect((await digest({ ...PLATFORM })).digest).toBe(base.digest);
    const slashed = await digest({ ...PLATFORM, issuerUrl: "https://issuer.example/" });
    expect(slashed.issuerUrl).toBe("https://issuer.example");
    expect(slashed.digest).toBe(base.digest);
    for (const other of [
      { ...PLATFORM, apiUrl: "https://api2.example" },
      { ...PLATFORM, issuerUrl: "https://issuer2.example" },
      { ...PLATFORM, ca: CA.replace("MIIB", "MIIC") },
      { apiUrl: PLATFORM.apiUrl, issuerUrl: PLATFORM.issuerUrl },
    ]) {
      expect((await digest(other)).digest).not.toBe(base.digest);
    }
  });

  test("no ConfigMap: a reason naming it and the variable that needs it", async () => {
    const r = await readPlatformSettings(view(rendered().template), configMaps({}).read);
    expect(r).toEqual({
      ok: false,
      reason: "ConfigMap gulfstream/config-platform (ENFORCE_API_URL) not found",
    });
  });

  test("a key missing: a reason naming the ConfigMap, the key and the variable", async () => {
    const { template, data } = rendered();
    delete data["issuer-url"];
    const r = await readPlatformSettings(
      view(template),
      configMaps({ "config-platform": data }).read,
    );
    expect(r).toEqual({
      ok: false,
      reason: 'ConfigMap gulfstream/config-platform has no key "issuer-url" (ENFORCE_ISSUER_URL)',
    });
  });

  test("the optional CA missing: no extra CA to trust", async () => {
    const { template, data } = rendered({ apiUrl: PLATFORM.apiUrl, issuerUrl: PLATFORM.issuerUrl });
    expect(data["ca.crt"]).toBeUndefined();
    const r = await readPlatformSettings(
      view(template),
      configMaps({ "config-platform": data }).read,
    );
    expect(r.ok && r.settings.ca).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  test("a CA that is not PEM: a reason naming the ConfigMap key", async () => {
    const { template, data } = rendered();
    data["ca.crt"] = "not a certificate";
    const r = await readPlatformSettings(
      view(template),
      configMaps({ "config-platform": data }).read,
    );
    expect(r).toEqual({
      ok: false,
      reason:
        'ConfigMap gulfstream/config-platform key "ca.crt" (ENFORCE_CA_FILE) holds no PEM certificate',
    });
  });

  test.each([
    ["api-url", "http://api.example", 'ENFORCE_API_URL "http://api.example" is not an https URL'],
    [
      "issuer-url",
      "http://issuer.example",
      'ENFORCE_ISSUER_URL "http://issuer.example" is not an https URL',
    ],
    ["issuer-url", "issuer.example", 'ENFORCE_ISSUER_URL "issuer.example" is not a URL'],
    [
      "api-url",
      " ",
      'container "controller" of StatefulSet gulfstream/meta-controlplane gets no ENFORCE_API_URL, so the agent does not know where the platform is',
    ],
  ])("%s %j is refused: %s", async (key, value, reason) => {
    const { template, data } = rendered();
    data[key] = value;
    const r = await readPlatformSettings(
      view(template),
      configMaps({ "config-platform": data }).read,
    );
    expect(r).toEqual({ ok: false, reason });
  });

  test("a variable the container does not set: a reason naming the container and the variable", async () => {
    const { template, data } = rendered();
    const controller = template.spec!.containers.find((c) => c.name === "controller")!;
    controller.env = controller.env!.filter((e) => e.name !== "ENFORCE_ISSUER_URL");
    const r = await readPlatformSettings(
      view(template),
      configMaps({ "config-platform": data }).read,
    );
    expect(r).toEqual({
      ok: false,
      reason:
        'container "controller" of StatefulSet gulfstream/meta-controlplane gets no ENFORCE_ISSUER_URL, so the agent does not know where the platform is',
    });
  });

  test("a failure to read a ConfigMap is not a reason: it is thrown as it came", async () => {
    const failure = new Error("HTTP 403: forbidden");
    await expect(
      readPlatformSettings(view(rendered().template), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });
});

describe("agent pod: projected tokens", () => {
  function minter(now: () => number) {
    const asked: TokenSpec[] = [];
    let n = 0;
    const mint = async (spec: TokenSpec): Promise<MintedToken> => {
      asked.push(spec);
      return { token: `t${++n}`, expiresAt: now() + spec.expirationSeconds * 1000 };
    };
    return { asked, mint };
  }

  /** The rendered template with the oidc-token volume's token changed. */
  function withPlatformToken(audience: string, expirationSeconds: number): PodView {
    const { template } = rendered();
    const volume = template.spec!.volumes!.find((v) => v.name === "oidc-token")!;
    volume.projected!.sources![0]!.serviceAccountToken = {
      path: "oidc-token",
      audience,
      expirationSeconds,
    };
    return view(template);
  }

  test("tokens per path, minted as the volume declares and reused while valid", async () => {
    const now = 1_000_000;
    const { asked, mint } = minter(() => now);
    const projection = new Projection(mint, () => now);
    expect(projection.setPod("uid-1", view(rendered().template))).toBe(true);
    const kube = projection.tokenAt(KUBE_TOKEN_PATH);
    const platform = projection.tokenAt(PLATFORM_TOKEN_PATH);
    if (typeof kube === "string" || typeof platform === "string") throw new Error("no source");
    expect((await kube.current())?.token).toBe("t1");
    expect((await platform.current())?.token).toBe("t2");
    expect(asked).toEqual([
      { audience: undefined, expirationSeconds: 3607 },
      { audience: "gulfstream", expirationSeconds: 600 },
    ]);
    // The same pod and spec: the same source, and its token.
    expect(projection.tokenAt(KUBE_TOKEN_PATH)).toBe(kube);
    expect((await (projection.tokenAt(KUBE_TOKEN_PATH) as typeof kube).current())?.token).toBe(
      "t1",
    );
    expect(asked).toHaveLength(2);
  });

  test("a changed audience or lifetime in the StatefulSet is a new token source", async () => {
    const now = 1_000_000;
    const { asked, mint } = minter(() => now);
    const projection = new Projection(mint, () => now);
    projection.setPod("uid-1", view(rendered().template));
    const before = projection.tokenAt(PLATFORM_TOKEN_PATH);
    if (typeof before === "string") throw new Error(before);
    await before.current();

    // The same StatefulSet (same UID), its template edited.
    expect(projection.setPod("uid-1", withPlatformToken("other-audience", 900))).toBe(false);
    const after = projection.tokenAt(PLATFORM_TOKEN_PATH);
    if (typeof after === "string") throw new Error(after);
    expect(after).not.toBe(before);
    expect((await after.current())?.token).toBe("t2");
    expect(asked[1]).toEqual({ audience: "other-audience", expirationSeconds: 900 });
  });

  test("another pod (a new StatefulSet UID) or none clears the tokens", async () => {
    const now = 1_000_000;
    const { asked, mint } = minter(() => now);
    const projection = new Projection(mint, () => now);
    const pod = view(rendered().template);
    projection.setPod("uid-1", pod);
    const first = projection.tokenAt(KUBE_TOKEN_PATH);
    if (typeof first === "string") throw new Error(first);
    await first.current();

    expect(projection.setPod("uid-2", pod)).toBe(true);
    const second = projection.tokenAt(KUBE_TOKEN_PATH);
    if (typeof second === "string") throw new Error(second);
    expect(second).not.toBe(first);
    expect((await second.current())?.token).toBe("t2");

    expect(projection.setPod(undefined)).toBe(true);
    expect(projection.tokenAt(KUBE_TOKEN_PATH)).toBe(
      "the agent's pod does not exist (no StatefulSet)",
    );
    expect(projection.setPod("uid-2", pod)).toBe(true);
    const third = projection.tokenAt(KUBE_TOKEN_PATH);
    if (typeof third === "string") throw new Error(third);
    expect((await third.current())?.token).toBe("t3");
    expect(asked).toHaveLength(3);
  });

  test("a path the template projects no token at gives a reason", () => {
    const projection = new Projection(async () => undefined);
    projection.setPod("uid-1", view(rendered().template));
    expect(projection.tokenAt("/var/run/enforce/platform/ca.crt")).toBe(
      "the pod template mounts no service-account token at /var/run/enforce/platform/ca.crt",
    );
    expect(projection.tokenAt("/nowhere/token")).toBe(
      "the pod template mounts no service-account token at /nowhere/token",
    );
  });
});
