import { unknownValue } from "@pulumi/pulumi/runtime/rpc";

import {
  AGENT_IMAGE_NAMES,
  AGENT_IMAGES,
  INPUT_PROPERTIES,
  UNKNOWN_VALUE,
  parseImageReference,
  validateInputs,
  type ReadFile,
} from "../../provider/inputs";

// Fake credentials: the kubeconfig carries them, and no reason may ever repeat them.
const TOKEN = "fake-token-7Qk2ZxW9pL4m";
const CLIENT_KEY = "RkFLRS1DTElFTlQtS0VZLWRhdGEtOTk4Nw==";
const CA_DATA = "RkFLRS1DQS1kYXRhLTEyMzQ1";
const SECRETS = [TOKEN, CLIENT_KEY, CA_DATA];

const ROOT = "0123456789abcdef0123456789abcdef01234567";
const GROUP = `${ROOT}/89abcdef01234567`;

function kubeconfigYaml({ currentContext = "kind-dev" }: { currentContext?: string } = {}) {
  return `apiVersion: v1
kind: Config
${currentContext === "" ? "" : `current-context: ${currentContext}\n`}clusters:
  - name: kind-dev
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${CA_DATA}
  - name: staging
    cluster:
      server: https://staging.example.com
  - name: serverless
    cluster: {}
contexts:
  - name: kind-dev
    context: { cluster: kind-dev, user: kind-dev-admin }
  - name: staging
    context: { cluster: staging, user: staging-user }
  - name: dangling
    context: { cluster: nowhere, user: kind-dev-admin }
  - name: no-server
    context: { cluster: serverless, user: kind-dev-admin }
  - name: ghost-user
    context: { cluster: staging, user: ${TOKEN}-user }
users:
  - name: kind-dev-admin
    user:
      token: ${TOKEN}
      client-key-data: ${CLIENT_KEY}
  - name: staging-user
    user:
      token: ${TOKEN}
`;
}
const KUBECONFIG = kubeconfigYaml();
const KUBECONFIG_JSON = JSON.stringify({
  apiVersion: "v1",
  kind: "Config",
  "current-context": "only",
  clusters: [{ name: "only", cluster: { server: "https://10.0.0.1" } }],
  contexts: [{ name: "only", context: { cluster: "only", user: "only" } }],
  users: [{ name: "only", user: { token: TOKEN, "client-key-data": CLIENT_KEY } }],
});

/** A fake file system: the files it knows, and errors for a few reserved paths. */
const FILES: Record<string, string> = {
  "/home/dev/.kube/config": KUBECONFIG,
  "/etc/hostname": "devbox",
  "/home/dev/.kube/no-users": "clusters: []\ncontexts: []\n",
};
const ERRORS: Record<string, string> = {
  "/root/.kube/config": "EACCES",
  "/home/dev/.kube": "EISDIR",
};
const readFile: ReadFile = (path) => {
  if (path in ERRORS)
    throw Object.assign(new Error(`${ERRORS[path]}: ${path}`), { code: ERRORS[path] });
  const text = FILES[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
  return text;
};

const BASE = { kubeconfig: KUBECONFIG, group: GROUP };
const validate = (raw: Record<string, unknown>, resourceName = "conn") =>
  validateInputs(raw, { resourceName, readFile });

const DIGEST = `sha256:${"0".repeat(64)}`;
// A reason says how to fix the problem: it names an action.
const FIX = /\b(Pass|pass|Use|use|Remove|List|list|[Ww]rite|add|Shorten|Fix|decode|Did you mean)\b/;

type Case = [label: string, raw: Record<string, unknown>, property: string, fragment: string];
const without = (key: string) =>
  Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== key));

const INVALID: Case[] = [
  // Required properties and unknown ones
  [
    "kubeconfig missing",
    without("kubeconfig"),
    "kubeconfig",
    "Missing required property 'kubeconfig'. Pass the kubeconfig contents",
  ],
  [
    "group missing",
    without("group"),
    "group",
    "Missing required property 'group'. Pass the id (UIDP)",
  ],
  [
    "misspelt property",
    { ...BASE, clustername: "x" },
    "clustername",
    "Unknown property 'clustername'. Did you mean 'clusterName'?",
  ],
  [
    "unknown property",
    { ...BASE, region: "eu" },
    "region",
    `Known properties: "agentImages", "clusterName"`,
  ],
  // kubeconfig
  [
    "kubeconfig not a string",
    { ...BASE, kubeconfig: 42 },
    "kubeconfig",
    "'kubeconfig' must be a string, got a number",
  ],
  ["kubeconfig empty", { ...BASE, kubeconfig: "  " }, "kubeconfig", "The kubeconfig is empty"],
  [
    "kubeconfig unparsable",
    { ...BASE, kubeconfig: `clusters: [\n  token: ${TOKEN}\n` },
    "kubeconfig",
    "could not be parsed as YAML or JSON (",
  ],
  [
    "kubeconfig broken JSON",
    { ...BASE, kubeconfig: `{"users": [{"token": "${TOKEN}"` },
    "kubeconfig",
    "could not be parsed as YAML or JSON",
  ],
  [
    "kubeconfig a list",
    { ...BASE, kubeconfig: "- a\n- b\n" },
    "kubeconfig",
    "is not a kubeconfig: it holds a list, not a mapping",
  ],
  [
    "kubeconfig without users",
    { ...BASE, kubeconfig: "clusters: []\ncontexts: []\n" },
    "kubeconfig",
    "has no 'users'; a kubeconfig needs clusters, contexts and users",
  ],
  [
    "kubeconfig clusters not a list",
    { ...BASE, kubeconfig: "clusters: {}\ncontexts: []\nusers: []\n" },
    "kubeconfig",
    "has 'clusters' as an object, not a list",
  ],
  [
    "kubeconfig entry without name",
    { ...BASE, kubeconfig: "clusters: []\ncontexts: [{context: {}}]\nusers: []\n" },
    "kubeconfig",
    "an entry without a name at contexts[0]",
  ],
  [
    "kubeconfig path missing",
    { ...BASE, kubeconfig: "/home/dev/.kube/confg" },
    "kubeconfig",
    'The kubeconfig file "/home/dev/.kube/confg" does not exist',
  ],
  [
    "kubeconfig path with ~",
    { ...BASE, kubeconfig: "~/.kube/config" },
    "kubeconfig",
    "'~' is not expanded: use an absolute path",
  ],
  [
    "kubeconfig path unreadable",
    { ...BASE, kubeconfig: "/root/.kube/config" },
    "kubeconfig",
    "is not readable (permission denied)",
  ],
  [
    "kubeconfig path a directory",
    { ...BASE, kubeconfig: "/home/dev/.kube" },
    "kubeconfig",
    'The kubeconfig file "/home/dev/.kube" is a directory',
  ],
  [
    "kubeconfig file not a kubeconfig",
    { ...BASE, kubeconfig: "/etc/hostname" },
    "kubeconfig",
    'The kubeconfig file "/etc/hostname" is not a kubeconfig: it holds a string',
  ],
  [
    "kubeconfig file incomplete",
    { ...BASE, kubeconfig: "/home/dev/.kube/no-users" },
    "kubeconfig",
    "has no 'users'",
  ],
  [
    "kubeconfig base64",
    { ...BASE, kubeconfig: Buffer.from(KUBECONFIG).toString("base64") },
    "kubeconfig",
    "looks like base64-encoded kubeconfig contents; decode it first",
  ],
  // context
  [
    "context not in kubeconfig",
    { ...BASE, context: "prod" },
    "context",
    'Context "prod" is not in the kubeconfig (available: "kind-dev", "staging", "dangling", "no-server", "ghost-user"). Pass one',
  ],
  [
    "context empty",
    { ...BASE, context: "" },
    "context",
    "'context' is empty. Pass the name of a context",
  ],
  [
    "context not a string",
    { ...BASE, context: ["kind-dev"] },
    "context",
    "'context' must be a string, got a list",
  ],
  [
    "no current-context",
    { ...BASE, kubeconfig: kubeconfigYaml({ currentContext: "" }) },
    "context",
    'The kubeconfig has no current-context (available: "kind-dev"',
  ],
  [
    "current-context dangling",
    { ...BASE, kubeconfig: kubeconfigYaml({ currentContext: "gone" }) },
    "context",
    `The kubeconfig's current-context "gone" is not in the kubeconfig`,
  ],
  [
    "context with unknown cluster",
    { ...BASE, context: "dangling" },
    "kubeconfig",
    'Context "dangling" refers to cluster "nowhere", which is not in the kubeconfig\'s clusters',
  ],
  [
    "context cluster without server",
    { ...BASE, context: "no-server" },
    "kubeconfig",
    'refers to cluster "serverless", which has no server URL',
  ],
  [
    "context with unknown user",
    { ...BASE, context: "ghost-user" },
    "kubeconfig",
    "refers to a user that is not in the kubeconfig's users",
  ],
  // group
  [
    "group a name",
    { ...BASE, group: "platform-team" },
    "group",
    "'group' is not a group id: the root has \"p\" at position 1",
  ],
  [
    "group uppercase",
    { ...BASE, group: GROUP.toUpperCase() },
    "group",
    "(hex digits must be lowercase)",
  ],
  [
    "group short segment",
    { ...BASE, group: `${ROOT}/89abcdef0123456` },
    "group",
    "segment 1 is 15 characters long instead of 16",
  ],
  ["group trailing slash", { ...BASE, group: `${GROUP}/` }, "group", "segment 2 is empty"],
  ["group not a string", { ...BASE, group: 7 }, "group", "'group' must be a string, got a number"],
  // clusterName, description
  [
    "clusterName uppercase",
    { ...BASE, clusterName: "Prod_EU" },
    "clusterName",
    `'clusterName' "Prod_EU" is not a valid cluster name: "P" at position 1 is not allowed. A cluster name is 1 to 63 lowercase letters, digits and '-'`,
  ],
  ["clusterName suggestion", { ...BASE, clusterName: "Prod_EU" }, "clusterName", `e.g. "prod-eu"`],
  [
    "clusterName not a string",
    { ...BASE, clusterName: 5 },
    "clusterName",
    "'clusterName' must be a string, got a number. Pass a string. A cluster name is",
  ],
  [
    "clusterName too long",
    { ...BASE, clusterName: "a".repeat(64) },
    "clusterName",
    "it is 64 characters long",
  ],
  [
    "clusterName leading dash",
    { ...BASE, clusterName: "-prod" },
    "clusterName",
    "it starts or ends with '-'",
  ],
  ["clusterName empty", { ...BASE, clusterName: "" }, "clusterName", "it is empty"],

  [
    "description too long",
    { ...BASE, description: "x".repeat(257) },
    "description",
    "'description' is 257 characters long, more than 256. Shorten it",
  ],
  [
    "description not a string",
    { ...BASE, description: { text: "x" } },
    "description",
    "'description' must be a string, got an object",
  ],
  // connectivity, exposeIssuerDiscovery
  [
    "connectivity unknown word",
    { ...BASE, connectivity: "Public" },
    "connectivity",
    `'connectivity' "Public" is not one of "auto", "public", "private". Use "public" when`,
  ],
  [
    "connectivity boolean",
    { ...BASE, connectivity: true },
    "connectivity",
    "'connectivity' must be a string, got a boolean",
  ],
  [
    "exposeIssuerDiscovery a string",
    { ...BASE, exposeIssuerDiscovery: "true" },
    "exposeIssuerDiscovery",
    "must be a boolean, got a string. Pass true or false",
  ],
  // renewAfter
  [
    "renewAfter too short",
    { ...BASE, renewAfter: "4s" },
    "renewAfter",
    "'renewAfter' is 4s, shorter than the minimum of 5s: each renewal registers the agent",
  ],
  [
    "renewAfter too long",
    { ...BASE, renewAfter: "31d" },
    "renewAfter",
    "30 days is the platform's maximum lifetime of a private cluster's identity",
  ],
  [
    "renewAfter fraction",
    { ...BASE, renewAfter: "1.5h" },
    "renewAfter",
    `'renewAfter' is not a valid duration: "1.5h" uses a fraction (1.5h); write "1h30m" instead`,
  ],
  [
    "renewAfter without unit",
    { ...BASE, renewAfter: "25" },
    "renewAfter",
    "has a number without a unit (25)",
  ],
  ["renewAfter negative", { ...BASE, renewAfter: "-1d" }, "renewAfter", "is negative"],
  ["renewAfter zero", { ...BASE, renewAfter: "0s" }, "renewAfter", "is zero"],
  [
    "renewAfter a number",
    { ...BASE, renewAfter: 86_400 },
    "renewAfter",
    `'renewAfter' must be a string, got a number. Pass a duration such as "25d"`,
  ],
  [
    "renewAfter on a public cluster",
    { ...BASE, connectivity: "public", renewAfter: "20d" },
    "renewAfter",
    "'renewAfter' only applies to private connections",
  ],
  // registrationTimeout
  [
    "registrationTimeout too short",
    { ...BASE, registrationTimeout: "5s" },
    "registrationTimeout",
    "shorter than the minimum of 10s",
  ],
  [
    "registrationTimeout too long",
    { ...BASE, registrationTimeout: "1h1s" },
    "registrationTimeout",
    "longer than the maximum of 1h",
  ],
  [
    "registrationTimeout with a space",
    { ...BASE, registrationTimeout: "5 m" },
    "registrationTimeout",
    "contains whitespace; remove it",
  ],
  [
    "registrationTimeout unknown unit",
    { ...BASE, registrationTimeout: "2min" },
    "registrationTimeout",
    'unknown unit "min"',
  ],
  // profiles
  [
    "profiles empty",
    { ...BASE, profiles: [] },
    "profiles",
    "'profiles' is empty. List \"enforcer\"",
  ],
  [
    "profiles a string",
    { ...BASE, profiles: "enforcer" },
    "profiles",
    "'profiles' must be a list of strings, got a string",
  ],
  [
    "profiles unknown",
    { ...BASE, profiles: ["admin"] },
    "profiles",
    'profiles[0] "admin" is not a profile',
  ],
  [
    "profiles wrong case",
    { ...BASE, profiles: ["observer", "Enforcer"] },
    "profiles",
    'profiles[1] "Enforcer" is not a profile. Did you mean "enforcer"?',
  ],
  [
    "profiles duplicate",
    { ...BASE, profiles: ["enforcer", "enforcer"] },
    "profiles",
    `'profiles' lists "enforcer" twice. List each profile once`,
  ],
  [
    "profiles not strings",
    { ...BASE, profiles: [1] },
    "profiles",
    "profiles[0] must be a string, got a number",
  ],
  // enforcerOptions
  [
    "enforcerOptions a list",
    { ...BASE, enforcerOptions: ["webhookFailOpen"] },
    "enforcerOptions",
    "'enforcerOptions' must be an object, got a list",
  ],
  [
    "enforcerOptions unknown key",
    { ...BASE, enforcerOptions: { failOpen: true } },
    "enforcerOptions.failOpen",
    `Unknown enforcer option 'failOpen'. Known options: "enableCipCache", "namespaceEnforcementMode", "webhookFailOpen"`,
  ],
  [
    "enforcerOptions snake_case key",
    { ...BASE, enforcerOptions: { webhook_fail_open: true } },
    "enforcerOptions.webhook_fail_open",
    'Did you mean "webhookFailOpen"?',
  ],
  [
    "enforcerOptions boolean as string",
    { ...BASE, enforcerOptions: { webhookFailOpen: "false" } },
    "enforcerOptions.webhookFailOpen",
    "must be a boolean, got a string. Pass true or false",
  ],
  [
    "enforcerOptions cache as number",
    { ...BASE, enforcerOptions: { enableCipCache: 1 } },
    "enforcerOptions.enableCipCache",
    "must be a boolean, got a number",
  ],
  [
    "enforcerOptions API spelling",
    { ...BASE, enforcerOptions: { namespaceEnforcementMode: "OptIn" } },
    "enforcerOptions.namespaceEnforcementMode",
    `is "OptIn", not one of "opt-in", "opt-out". Use "opt-in" to enforce only`,
  ],
  // agentImages
  [
    "agentImages a string",
    { ...BASE, agentImages: "registry.example.com/x" },
    "agentImages",
    "'agentImages' must be an object mapping image names to image references, got a string",
  ],
  [
    "agentImages unknown image",
    { ...BASE, agentImages: { webhook: "registry.example.com/webhook:v1" } },
    "agentImages.webhook",
    `Unknown agent image 'webhook'. Known images: "chainctl", "controlplane"`,
  ],
  [
    "agentImages short name",
    { ...BASE, agentImages: { controlplane: "controlplane:v1" } },
    "agentImages.controlplane",
    "does not start with a registry host",
  ],
  [
    "agentImages bad digest",
    { ...BASE, agentImages: { chainctl: "registry.example.com/chainctl@sha256:1234" } },
    "agentImages.chainctl",
    'the digest "sha256:1234" is not "sha256:" followed by 64 lowercase hex digits',
  ],
  [
    "agentImages uppercase repository",
    { ...BASE, agentImages: { chainctl: "registry.example.com/Enforce/chainctl:v1" } },
    "agentImages.chainctl",
    'the repository component "Enforce" is not valid',
  ],
  [
    "agentImages not a string",
    { ...BASE, agentImages: { controlplane: { image: "x" } } },
    "agentImages.controlplane",
    "must be an image reference string, got an object",
  ],
];

describe("validateInputs rejects", () => {
  test("the table is large enough", () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });

  test.each(INVALID)("%s", (_label, raw, property, fragment) => {
    const { failures } = validate(raw);
    const mine = failures.filter((failure) => failure.property === property);
    expect(mine).not.toHaveLength(0);
    expect(mine.map((failure) => failure.reason).join("\n")).toContain(fragment);
    // Nothing else fails: the case tests exactly one rule.
    expect(failures.filter((failure) => failure.property !== property)).toEqual([]);
    for (const { reason } of failures) {
      expect(reason).toMatch(FIX);
      for (const secret of SECRETS) expect(reason).not.toContain(secret);
    }
  });

  test("a resource name that is not a valid cluster name, when clusterName is left out", () => {
    expect(validate(BASE, "my cluster").failures).toEqual([
      {
        property: "clusterName",
        reason: expect.stringContaining(
          `'clusterName' defaults to the resource name "my cluster", which is not a valid cluster name: " " at position 3 is not allowed.`,
        ),
      },
    ]);
    expect(validate(BASE, "my cluster").failures[0]?.reason).toContain(
      `Pass 'clusterName' explicitly, e.g. "my-cluster".`,
    );
    expect(validate({ ...BASE, clusterName: "my-cluster" }, "My Cluster").failures).toEqual([]);
  });

  test("reports every problem, in a stable order", () => {
    const raw = { kubeconfig: 1, group: "x", connectivity: "p", profiles: [], extra: true };
    const properties = validate(raw).failures.map((failure) => failure.property);
    expect(properties).toEqual(["extra", "kubeconfig", "group", "connectivity", "profiles"]);
    expect(validate(raw).failures).toEqual(validate(raw).failures);
  });

  test("a conflicting renewAfter is reported once, as the conflict", () => {
    const { failures } = validate({ ...BASE, connectivity: "public", renewAfter: "1s" });
    expect(failures).toEqual([
      { property: "renewAfter", reason: expect.stringContaining("only applies to private") },
    ]);
  });

  test("a context that fails its own check is not looked up in the kubeconfig as well", () => {
    // Looked up, the rejected context would fall back to a current-context there is none of.
    const kubeconfig = kubeconfigYaml({ currentContext: "" });
    const { failures } = validate({ ...BASE, kubeconfig, context: 3 });
    expect(failures).toEqual([
      { property: "context", reason: expect.stringContaining("'context' must be a string") },
    ]);
  });
});

const DEFAULT_INPUTS = {
  agentImages: {},
  clusterName: "conn",
  connectivity: "auto",
  enforcerOptions: {
    enableCipCache: false,
    namespaceEnforcementMode: "opt-in",
    webhookFailOpen: false,
  },
  exposeIssuerDiscovery: false,
  group: GROUP,
  kubeconfig: KUBECONFIG,
  profiles: ["enforcer"],
  registrationTimeout: "5m",
  registrationTimeoutSeconds: 300,
  renewAfter: "25d",
  renewAfterSeconds: 2_160_000,
};

describe("validateInputs accepts", () => {
  test("the required inputs alone, applying every default", () => {
    expect(validate(BASE)).toEqual({ inputs: DEFAULT_INPUTS, failures: [], unknown: [] });
  });

  test("every input, normalized", () => {
    const controlplane = `mirror.example.com:5000/enforce/controlplane:v0.1.255@${DIGEST}`;
    const result = validate(
      {
        ...BASE,
        context: "staging",
        clusterName: "prod-eu-1",
        description: "Production, EU",
        connectivity: "private",
        exposeIssuerDiscovery: true,
        renewAfter: "240h",
        profiles: ["observer", "enforcer"],
        enforcerOptions: { namespaceEnforcementMode: "opt-out", webhookFailOpen: true },
        agentImages: {
          controlplane,
          chainctl: "mirror.example.com:5000/enforce/chainctl:v0.1.255",
        },
        registrationTimeout: "90s",
      },
      "ignored-resource-name",
    );
    expect(result.failures).toEqual([]);
    expect(result.inputs).toEqual({
      agentImages: { chainctl: "mirror.example.com:5000/enforce/chainctl:v0.1.255", controlplane },
      clusterName: "prod-eu-1",
      connectivity: "private",
      context: "staging",
      description: "Production, EU",
      enforcerOptions: {
        enableCipCache: false,
        namespaceEnforcementMode: "opt-out",
        webhookFailOpen: true,
      },
      exposeIssuerDiscovery: true,
      group: GROUP,
      kubeconfig: KUBECONFIG,
      // enforcer implies observer; durations are stored in one canonical spelling.
      profiles: ["enforcer"],
      registrationTimeout: "1m30s",
      registrationTimeoutSeconds: 90,
      renewAfter: "10d",
      renewAfterSeconds: 864_000,
    });
  });

  test.each([
    ["observer only", { profiles: ["observer"] }, { profiles: ["observer"] }],
    ["a root group", { group: ROOT }, { group: ROOT }],
    ["the limits of renewAfter", { renewAfter: "5s" }, { renewAfter: "5s", renewAfterSeconds: 5 }],
    ["30 days", { renewAfter: "720h" }, { renewAfter: "30d", renewAfterSeconds: 2_592_000 }],
    [
      "the limits of registrationTimeout",
      { registrationTimeout: "10s" },
      { registrationTimeoutSeconds: 10 },
    ],
    ["one hour", { registrationTimeout: "60m" }, { registrationTimeout: "1h" }],
    ["a 63-character name", { clusterName: "a".repeat(63) }, { clusterName: "a".repeat(63) }],
    [
      "a 256-character description",
      { description: "é".repeat(256) },
      { description: "é".repeat(256) },
    ],
    [
      "renewAfter with auto connectivity",
      { connectivity: "auto", renewAfter: "12h" },
      { renewAfter: "12h" },
    ],
    [
      "public without renewAfter",
      { connectivity: "public" },
      { connectivity: "public", renewAfter: "25d" },
    ],
    [
      "null as left out",
      { context: null, description: null, profiles: null },
      { profiles: ["enforcer"] },
    ],
  ])("%s", (_label, extra, expected) => {
    const { inputs, failures } = validate({ ...BASE, ...extra });
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject(expected);
    expect(inputs).not.toHaveProperty("context");
  });

  test("JSON kubeconfig contents on one line", () => {
    expect(validate({ ...BASE, kubeconfig: KUBECONFIG_JSON }).failures).toEqual([]);
    expect(validate({ ...BASE, kubeconfig: KUBECONFIG_JSON, context: "only" }).failures).toEqual(
      [],
    );
  });

  test("a kubeconfig path, read through the injected readFile", () => {
    const paths: string[] = [];
    const result = validateInputs(
      { ...BASE, kubeconfig: "/home/dev/.kube/config", context: "staging" },
      { resourceName: "conn", readFile: (path) => (paths.push(path), readFile(path)) },
    );
    expect(result.failures).toEqual([]);
    expect(paths).toEqual(["/home/dev/.kube/config"]);
    // The path is kept as given, not replaced by the file's contents.
    expect(result.inputs.kubeconfig).toBe("/home/dev/.kube/config");
  });

  test("inline contents are never read as a file", () => {
    validateInputs(BASE, {
      resourceName: "conn",
      readFile: () => {
        throw new Error("must not be called");
      },
    });
  });

  test("the engine's __provider input is ignored and not returned", () => {
    const { inputs, failures } = validate({ ...BASE, __provider: "serialized code" });
    expect(failures).toEqual([]);
    expect(inputs).not.toHaveProperty("__provider");
  });

  test("every default agent image parses as an override would", () => {
    expect(AGENT_IMAGE_NAMES).toEqual(["chainctl", "controlplane"]);
    for (const name of AGENT_IMAGE_NAMES) {
      expect(parseImageReference(AGENT_IMAGES[name].defaultReference)).toMatchObject({ ok: true });
      const { failures } = validate({
        ...BASE,
        agentImages: { [name]: AGENT_IMAGES[name].defaultReference },
      });
      expect(failures).toEqual([]);
    }
  });
});

describe("unknown values (preview)", () => {
  test("the sentinel is Pulumi's", () => {
    expect(UNKNOWN_VALUE).toBe(unknownValue);
  });

  test("an unknown kubeconfig skips the kubeconfig and context checks", () => {
    const result = validate({ ...BASE, kubeconfig: UNKNOWN_VALUE, context: "whatever" });
    expect(result.failures).toEqual([]);
    expect(result.unknown).toEqual(["kubeconfig"]);
    expect(result.inputs.kubeconfig).toBe(UNKNOWN_VALUE);
    expect(result.inputs.context).toBe("whatever");
  });

  test("a known context is still type-checked when the kubeconfig is unknown", () => {
    const { failures } = validate({ ...BASE, kubeconfig: UNKNOWN_VALUE, context: 3 });
    expect(failures.map((failure) => failure.property)).toEqual(["context"]);
  });

  test("an unknown required group is not reported missing", () => {
    const result = validate({ kubeconfig: KUBECONFIG, group: UNKNOWN_VALUE });
    expect(result).toMatchObject({ failures: [], unknown: ["group"] });
    expect(result.inputs.group).toBe(UNKNOWN_VALUE);
  });

  test("an unknown context is not looked up", () => {
    const result = validate({
      ...BASE,
      kubeconfig: kubeconfigYaml({ currentContext: "" }),
      context: UNKNOWN_VALUE,
    });
    expect(result).toMatchObject({ failures: [], unknown: ["context"] });
  });

  test("objects and lists containing the sentinel pass through unchecked", () => {
    const enforcerOptions = { webhookFailOpen: UNKNOWN_VALUE, bogus: 1 };
    const profiles = ["enforcer", UNKNOWN_VALUE];
    const agentImages = { controlplane: UNKNOWN_VALUE };
    const result = validate({ ...BASE, enforcerOptions, profiles, agentImages });
    expect(result.failures).toEqual([]);
    expect(result.unknown).toEqual(["agentImages", "enforcerOptions", "profiles"]);
    expect(result.inputs).toMatchObject({ enforcerOptions, profiles, agentImages });
  });

  test("an unknown duration makes its seconds unknown too", () => {
    const { inputs, unknown } = validate({ ...BASE, renewAfter: UNKNOWN_VALUE });
    expect(unknown).toEqual(["renewAfter"]);
    expect(inputs).toMatchObject({ renewAfter: UNKNOWN_VALUE, renewAfterSeconds: UNKNOWN_VALUE });
  });

  test("renewAfter is not rejected while connectivity is unknown", () => {
    const result = validate({ ...BASE, connectivity: UNKNOWN_VALUE, renewAfter: "20d" });
    expect(result).toMatchObject({ failures: [], unknown: ["connectivity"] });
  });

  test("every property unknown at once", () => {
    const raw = Object.fromEntries(INPUT_PROPERTIES.map((property) => [property, UNKNOWN_VALUE]));
    const result = validate(raw, "Not A Valid Name");
    expect(result.failures).toEqual([]);
    expect(result.unknown).toEqual([...INPUT_PROPERTIES]);
    for (const property of INPUT_PROPERTIES) expect(result.inputs[property]).toBe(UNKNOWN_VALUE);
  });

  test("other properties are still checked", () => {
    const result = validate({ ...BASE, kubeconfig: UNKNOWN_VALUE, connectivity: "lan" });
    expect(result.failures.map((failure) => failure.property)).toEqual(["connectivity"]);
  });
});

describe("deterministic output", () => {
  const raw = {
    ...BASE,
    agentImages: {
      controlplane: "registry.example.com/enforce/controlplane:v1",
      chainctl: "registry.example.com/enforce/chainctl:v1",
    },
    enforcerOptions: {
      webhookFailOpen: true,
      namespaceEnforcementMode: "opt-out",
      enableCipCache: true,
    },
    profiles: ["observer", "enforcer"],
    description: "d",
    renewAfter: "24h",
  };
  /** The same object with keys, at every depth, in reverse order. */
  const reversed = (value: unknown): unknown =>
    Array.isArray(value)
      ? value
      : typeof value === "object" && value !== null
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          )
        : value;

  test("the same inputs in another key order give identical JSON", () => {
    const a = JSON.stringify(validate(raw).inputs);
    const b = JSON.stringify(validate(reversed(raw) as Record<string, unknown>).inputs);
    expect(b).toBe(a);
  });

  test("values passed through while unknown are key-sorted too", () => {
    const partly = {
      ...raw,
      enforcerOptions: { webhookFailOpen: UNKNOWN_VALUE, enableCipCache: true },
    };
    const a = JSON.stringify(validate(partly).inputs);
    const b = JSON.stringify(validate(reversed(partly) as Record<string, unknown>).inputs);
    expect(b).toBe(a);
    expect(a).toContain(
      `"enforcerOptions":{"enableCipCache":true,"webhookFailOpen":"${UNKNOWN_VALUE}"}`,
    );
  });

  test("keys are sorted at every depth", () => {
    const { inputs } = validate(reversed(raw) as Record<string, unknown>);
    const keys = Object.keys(inputs);
    expect(keys).toEqual([...keys].sort());
    expect(Object.keys(inputs.agentImages)).toEqual(["chainctl", "controlplane"]);
    expect(Object.keys(inputs.enforcerOptions)).toEqual([
      "enableCipCache",
      "namespaceEnforcementMode",
      "webhookFailOpen",
    ]);
  });

  test("equivalent spellings normalize identically", () => {
    const a = validate({ ...BASE, renewAfter: "24h", profiles: ["enforcer", "observer"] }).inputs;
    const b = validate({ ...BASE, renewAfter: "1d", profiles: ["enforcer"] }).inputs;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  test("defaults are fresh objects, not shared", () => {
    const first = validate(BASE).inputs;
    first.profiles.push("observer");
    first.enforcerOptions.webhookFailOpen = true;
    expect(validate(BASE).inputs).toEqual(DEFAULT_INPUTS);
  });

  test("the output is plain JSON without undefined values", () => {
    const { inputs } = validate(BASE);
    expect(JSON.parse(JSON.stringify(inputs))).toEqual(inputs);
    expect(Object.values(inputs)).not.toContain(undefined);
  });
});

describe("credentials never reach a reason", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["a context that does not exist", { ...BASE, context: "prod" }],
    ["a user entry that is missing (named after the token)", { ...BASE, context: "ghost-user" }],
    [
      "a parse error on the token line",
      { ...BASE, kubeconfig: `users:\n- name: a\n  user:\n    token: [${TOKEN}\n` },
    ],
    [
      "a parse error in JSON",
      {
        ...BASE,
        kubeconfig: `{"users":[{"user":{"token":"${TOKEN}" "client-key-data":"${CLIENT_KEY}"}}]}`,
      },
    ],
    [
      "a duplicate key beside the key",
      { ...BASE, kubeconfig: `users: []\nusers:\n- client-key-data: ${CLIENT_KEY}\n` },
    ],
    ["a token passed as the kubeconfig", { ...BASE, kubeconfig: TOKEN }],
    ["a long single line", { ...BASE, kubeconfig: `${CLIENT_KEY}.${TOKEN}`.repeat(8) }],
    ["base64 contents", { ...BASE, kubeconfig: Buffer.from(KUBECONFIG).toString("base64") }],
    [
      "the wrong structure",
      { ...BASE, kubeconfig: `clusters: ${TOKEN}\ncontexts: []\nusers: []\n` },
    ],
  ];

  test.each(cases)("%s", (_label, raw) => {
    const { failures } = validate(raw);
    expect(failures).not.toEqual([]);
    const text = JSON.stringify(failures);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(KUBECONFIG).toString("base64").slice(0, 40));
  });
});
