/**
 * Where the agent finds Enforce: the environment variables and the CA file of its container, as
 * the kubelet would resolve them from what the connection installed (ConfigMap references in
 * the StatefulSet's pod template). No other source exists: an agent whose installation does not
 * say where the platform is cannot register, and says why.
 */
import { platformDigest } from "../../provider/install/platform-settings";
import { NAMESPACE, PLATFORM_ENV, STATEFULSET_REF, AGENT_CONTAINER } from "./names";
import type { ConfigMapKey, PodView } from "./pod";

/** The platform settings the agent runs with. */
export interface PlatformSettings {
  apiUrl: string;
  issuerUrl: string;
  /** PEM bundle to trust besides the system roots, when the installation provides one. */
  ca: string | undefined;
  /** Changes with any of the above: a new value means the agent was told of another platform. */
  digest: string;
}

/** Outcome of {@link readPlatformSettings}; a reason names the object and key at fault. */
export type PlatformResult =
  | { ok: true; settings: PlatformSettings }
  | { ok: false; reason: string };

/** Reads a ConfigMap of the agent's namespace (with the agent's token); undefined when absent. */
export type ReadConfigMap = (name: string) => Promise<Record<string, string> | undefined>;

class Missing extends Error {}

/** Resolves the agent's platform settings from its pod. */
export async function readPlatformSettings(
  pod: PodView,
  readConfigMap: ReadConfigMap,
): Promise<PlatformResult> {
  const maps = new Map<string, Promise<Record<string, string> | undefined>>();
  const keyOf = async (ref: ConfigMapKey, what: string): Promise<string | undefined> => {
    let read = maps.get(ref.name);
    if (!read) maps.set(ref.name, (read = readConfigMap(ref.name)));
    const data = await read;
    const value = data?.[ref.key];
    if (value !== undefined || ref.optional) return value;
    throw new Missing(
      data === undefined
        ? `ConfigMap ${NAMESPACE}/${ref.name} (${what}) not found`
        : `ConfigMap ${NAMESPACE}/${ref.name} has no key "${ref.key}" (${what})`,
    );
  };
  const env = async (name: string): Promise<string | undefined> => {
    const source = pod.env(name);
    if (!source) return undefined;
    return source.kind === "value" ? source.value : keyOf(source.ref, name);
  };
  const url = async (name: string): Promise<string> => {
    const value = (await env(name))?.trim();
    if (!value) {
      throw new Missing(
        `container "${AGENT_CONTAINER}" of ${STATEFULSET_REF} gets no ${name}, so the agent does ` +
          "not know where the platform is",
      );
    }
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Missing(`${name} "${value}" is not a URL`);
    }
    if (parsed.protocol !== "https:") throw new Missing(`${name} "${value}" is not an https URL`);
    return value.replace(/\/+$/, "");
  };

  try {
    const apiUrl = await url(PLATFORM_ENV.apiUrl);
    const issuerUrl = await url(PLATFORM_ENV.issuerUrl);
    const ca = await caBundle(pod, await env(PLATFORM_ENV.caFile), keyOf);
    // The installer's digest of the same settings (its pod-template annotation).
    const digest = platformDigest({ apiUrl, issuerUrl, ca });
    return { ok: true, settings: { apiUrl, issuerUrl, ca, digest } };
  } catch (err) {
    if (err instanceof Missing) return { ok: false, reason: err.message };
    throw err;
  }
}

/** The CA file's contents, when the path is set and a mounted ConfigMap key provides it. */
async function caBundle(
  pod: PodView,
  path: string | undefined,
  keyOf: (ref: ConfigMapKey, what: string) => Promise<string | undefined>,
): Promise<string | undefined> {
  if (!path) return undefined;
  const file = pod.fileAt(path);
  // A path no volume provides is a file that does not exist: nothing extra to trust.
  if (file?.kind !== "configMap") return undefined;
  const pem = await keyOf(file.ref, `${PLATFORM_ENV.caFile} ${path}`);
  if (pem === undefined) return undefined;
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Missing(
      `ConfigMap ${NAMESPACE}/${file.ref.name} key "${file.ref.key}" (${PLATFORM_ENV.caFile}) holds no PEM certificate`,
    );
  }
  return pem;
}
