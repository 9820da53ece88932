/**
 * The agent's pod as a kubelet would run it, read from the StatefulSet's pod template: which
 * file under which path comes from which volume (a projected service-account token, or a key of
 * a ConfigMap), and where each environment variable comes from. Pure: resolving a ConfigMap
 * reference is left to the caller, who reads ConfigMaps with the agent's own token.
 */
import type {
  V1Container,
  V1EnvVar,
  V1KeyToPath,
  V1PodTemplateSpec,
  V1Volume,
} from "@kubernetes/client-node" with { "resolution-mode": "import" };

/** A projected service-account token: what TokenRequest is asked for. */
export interface TokenSpec {
  /** `undefined`: the API server's own audiences (a token for the Kubernetes API). */
  audience: string | undefined;
  expirationSeconds: number;
}

/** One key of a ConfigMap in the pod's namespace. */
export interface ConfigMapKey {
  name: string;
  key: string;
  /** The kubelet starts the pod without it when it is missing. */
  optional: boolean;
}

/** What a path in the container holds. */
export type FileSource =
  | { kind: "token"; token: TokenSpec }
  | { kind: "configMap"; ref: ConfigMapKey }
  | { kind: "other"; volume: string };

/** An environment variable of the container: a literal, or a ConfigMap key. */
export type EnvSource = { kind: "value"; value: string } | { kind: "configMap"; ref: ConfigMapKey };

/** The kubelet's default lifetime of a projected token (`expirationSeconds` left out). */
const DEFAULT_TOKEN_SECONDS = 3600;

/** One container of the pod template, as the kubelet would set it up. */
export class PodView {
  private constructor(
    private readonly container: V1Container,
    private readonly volumes: V1Volume[],
  ) {}

  /**
   * The view of container `name` of `template`.
   * @returns a reason instead when the template has no such container.
   */
  static of(template: V1PodTemplateSpec | undefined, name: string): PodView | string {
    const container = template?.spec?.containers?.find((c) => c.name === name);
    if (!container) return `the pod template has no container "${name}"`;
    return new PodView(container, template?.spec?.volumes ?? []);
  }

  /** Where the file at absolute `path` comes from; undefined when no mount covers it. */
  fileAt(path: string): FileSource | undefined {
    const mount = (this.container.volumeMounts ?? [])
      .filter((m) => path.startsWith(`${m.mountPath.replace(/\/+$/, "")}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!mount) return undefined;
    const relative = path.slice(mount.mountPath.replace(/\/+$/, "").length + 1);
    const volume = this.volumes.find((v) => v.name === mount.name);
    if (!volume) return undefined;
    if (volume.configMap) {
      const ref = keyAt(volume.configMap.items, relative);
      if (ref === undefined) return undefined;
      return {
        kind: "configMap",
        ref: { name: volume.configMap.name ?? "", key: ref, optional: !!volume.configMap.optional },
      };
    }
    for (const source of volume.projected?.sources ?? []) {
      const sat = source.serviceAccountToken;
      if (sat && sat.path === relative) {
        return {
          kind: "token",
          token: {
            audience: sat.audience || undefined,
            expirationSeconds: sat.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
          },
        };
      }
      const cm = source.configMap;
      if (cm) {
        const key = keyAt(cm.items, relative);
        if (key !== undefined) {
          return {
            kind: "configMap",
            ref: { name: cm.name ?? "", key, optional: !!cm.optional },
          };
        }
      }
    }
    return { kind: "other", volume: volume.name };
  }

  /** Where environment variable `name` comes from; undefined when the container has none. */
  env(name: string): EnvSource | undefined {
    const found: V1EnvVar | undefined = (this.container.env ?? []).find((e) => e.name === name);
    if (!found) return undefined;
    const ref = found.valueFrom?.configMapKeyRef;
    if (ref) {
      return {
        kind: "configMap",
        ref: { name: ref.name ?? "", key: ref.key, optional: !!ref.optional },
      };
    }
    return { kind: "value", value: found.value ?? "" };
  }
}

/** The key a ConfigMap volume maps to `relative`: by its items, or the key itself without them. */
function keyAt(items: V1KeyToPath[] | undefined, relative: string): string | undefined {
  if (!items || items.length === 0) return relative.includes("/") ? undefined : relative;
  return items.find((i) => i.path === relative)?.key;
}
