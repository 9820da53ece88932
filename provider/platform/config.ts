/**
 * Resolution of the platform settings from stack config and environment.
 *
 * Stack config wins over the environment; empty values count as unset. Base
 * URLs are validated here, eagerly, because no call can succeed with a bad
 * one and checking needs no network. The token is *not* required here: a
 * missing token resolves to `undefined` so that `check`, `diff` and previews
 * can run without credentials, and `PlatformClient` rejects each API
 * call that needs it with a {@link PlatformConfigError} ({@link missingTokenError}).
 *
 * A Pulumi dynamic provider's `configure` receives the provider config keyed
 * by full name (`enforce:token`), as a `{ get(key) }` object; a plain record
 * with the same keys works too.
 *
 * @module
 */
import { PlatformConfigError } from "./errors";
import { parseBaseUrl } from "./internal/url";
import { isWellFormedToken } from "./internal/token";

/** Default base URL of the platform API. */
export const DEFAULT_API_URL = "https://console-api.enforce.dev";
/** Default base URL of the platform's issuer. */
export const DEFAULT_ISSUER_URL = "https://issuer.enforce.dev";

/** A setting's stack config key and the environment variable that stands in for it. */
export interface PlatformSetting {
  readonly key: string;
  readonly envVar: string;
}

/** The settings this package reads. */
export const PLATFORM_SETTINGS = {
  apiUrl: { key: "enforce:apiUrl", envVar: "ENFORCE_API_URL" },
  issuerUrl: { key: "enforce:issuerUrl", envVar: "ENFORCE_ISSUER_URL" },
  token: { key: "enforce:token", envVar: "ENFORCE_TOKEN" },
  caFile: { key: "enforce:caFile", envVar: "ENFORCE_CA_FILE" },
} as const satisfies Record<string, PlatformSetting>;

/** Stack config as a record keyed `enforce:apiUrl`…, or Pulumi's dynamic-provider `Config`. */
export type StackConfig =
  | Readonly<Record<string, string | undefined>>
  | { get(key: string): string | undefined };

/** Resolved platform settings. */
export interface PlatformConfig {
  /** Validated API base URL, without trailing slash. */
  apiUrl: string;
  /** Validated issuer base URL, without trailing slash. */
  issuerUrl: string;
  /** The platform token, or `undefined` when not configured (see {@link missingTokenError}). */
  token: string | undefined;
  /** Path of an extra CA bundle (PEM) to trust, e.g. the emulator's; read with `readCaFile`. */
  caFile: string | undefined;
}

/**
 * Resolves the platform settings: `enforce:apiUrl`, `enforce:issuerUrl`,
 * `enforce:token` (secret) and `enforce:caFile`, each falling back to
 * `ENFORCE_API_URL`, `ENFORCE_ISSUER_URL`, `ENFORCE_TOKEN`, `ENFORCE_CA_FILE`.
 *
 * @throws {@link PlatformConfigError} when a URL is invalid (not https, or http
 *   on a non-loopback host) or the token contains whitespace or control characters.
 */
export function resolvePlatformConfig(
  stackConfig: StackConfig,
  env: NodeJS.ProcessEnv = process.env,
): PlatformConfig {
  const read = (setting: PlatformSetting) => lookup(stackConfig, env, setting);
  const token = read(PLATFORM_SETTINGS.token);
  if (token && !isWellFormedToken(token.value)) {
    throw new PlatformConfigError({
      ...PLATFORM_SETTINGS.token,
      problem: `${fromText(token.from, PLATFORM_SETTINGS.token)}contains whitespace or control characters`,
      fix: "Set it again, without surrounding quotes or line breaks: `pulumi config set --secret enforce:token <token>`.",
    });
  }
  return {
    apiUrl: resolveUrl(read(PLATFORM_SETTINGS.apiUrl), PLATFORM_SETTINGS.apiUrl, DEFAULT_API_URL),
    issuerUrl: resolveUrl(
      read(PLATFORM_SETTINGS.issuerUrl),
      PLATFORM_SETTINGS.issuerUrl,
      DEFAULT_ISSUER_URL,
    ),
    token: token?.value,
    caFile: read(PLATFORM_SETTINGS.caFile)?.value,
  };
}

/**
 * The error for an API call made without a platform token; `call` names the
 * client method that needed it.
 */
export function missingTokenError(call: string): PlatformConfigError {
  const { key, envVar } = PLATFORM_SETTINGS.token;
  return new PlatformConfigError({
    key,
    envVar,
    problem: `is not set (nor ${envVar}), and ${call} needs a platform token`,
    fix:
      `Set it with \`pulumi config set --secret ${key} <token>\` or export ${envVar}; ` +
      "for the local emulator the token is in the ready.json written by `enforce-local up`.",
  });
}

type Found = { value: string; from: "stack" | "env" };

function lookup(
  stackConfig: StackConfig,
  env: NodeJS.ProcessEnv,
  setting: PlatformSetting,
): Found | undefined {
  const fromStack =
    typeof stackConfig.get === "function"
      ? (stackConfig as { get(key: string): string | undefined }).get(setting.key)
      : (stackConfig as Readonly<Record<string, string | undefined>>)[setting.key];
  const stack = fromStack?.trim();
  if (stack) return { value: stack, from: "stack" };
  const fromEnv = env[setting.envVar]?.trim();
  return fromEnv ? { value: fromEnv, from: "env" } : undefined;
}

function fromText(from: Found["from"], setting: PlatformSetting): string {
  return from === "env" ? `(set through ${setting.envVar}) ` : "";
}

function resolveUrl(found: Found | undefined, setting: PlatformSetting, fallback: string): string {
  const parsed = parseBaseUrl(found?.value ?? fallback);
  if (parsed.ok) return parsed.url.href.replace(/\/+$/, "");
  throw new PlatformConfigError({
    ...setting,
    problem: `${found ? fromText(found.from, setting) : ""}${parsed.problem}`,
    fix: `Set it with \`pulumi config set ${setting.key} https://...\` or ${setting.envVar}; plain http is accepted only for loopback hosts such as the local emulator.`,
  });
}
