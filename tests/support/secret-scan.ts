import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { ReadyFile } from "../../local/control-plane/environment";
import type { EnforceSection } from "../../local/platform-services";
import { kubectl } from "./env";

/**
 * The secret scan of issue 15: after a scenario, look for the secret values actually in use
 * (kubeconfig client keys and tokens, the platform token, the invite codes the clusters hold) in
 * everything a user or an operator could read: the exported state, what the CLI printed (the
 * provider's stderr among it), the engine's log files and the local environment's logs. A hit
 * names the secret and where it was found, never the value, so a failing test prints no secret.
 */

/** One secret value found somewhere it must not be. */
export interface SecretHit {
  /** What the secret is, e.g. "cluster-1 admin client key"; never its value. */
  secret: string;
  /** Where it was found: a file's path, or the label of a text (e.g. "pulumi stack export"). */
  source: string;
}

/** Shorter values could match by accident: a secret must be at least this long. */
const MIN_SECRET_LENGTH = 16;

/** Whether `file` is a log: the environment's `*.log` and the engine's `pulumi.*.log.*` files. */
function isLog(file: string): boolean {
  const name = path.basename(file);
  return name.endsWith(".log") || /\.log\.(INFO|WARNING|ERROR)\b/.test(name);
}

/** Every log file under `dir`, recursively; none when it does not exist. */
export function logFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter(isLog)
    .sort();
}

/**
 * The forms a secret may take in text: itself, base64 (a Kubernetes Secret's data), and for a
 * kubeconfig's `*-data` field (base64 PEM) the key material of the decoded PEM.
 */
function formsOf(value: string): string[] {
  const forms = [value, Buffer.from(value, "utf8").toString("base64")];
  const decoded = Buffer.from(value, "base64").toString("utf8");
  if (decoded.startsWith("-----BEGIN")) {
    // The longest body line: 64 characters of key (or certificate) material.
    const body = decoded.split("\n").filter((l) => !l.startsWith("-----"));
    forms.push(body.reduce((a, b) => (b.length > a.length ? b : a), ""));
  }
  return forms.filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** The secret values one scan looks for, by name; values are kept once added (for after a destroy). */
export class SecretScan {
  readonly #secrets = new Map<string, string[]>();

  /**
   * Adds secret `name`; a value shorter than 16 characters is refused (it could match by
   * accident). A new value under a name already added (a new invite code) is added as `name #2`.
   */
  add(name: string, value: string): void {
    if (value.length < MIN_SECRET_LENGTH) {
      throw new TypeError(`secret ${name} is ${value.length} characters, too short to scan for`);
    }
    const forms = formsOf(value);
    let key = name;
    for (let n = 2; this.#secrets.has(key); n++) {
      if (this.#secrets.get(key)![0] === value) return;
      key = `${name} #${n}`;
    }
    this.#secrets.set(key, forms);
  }

  /** The names of the secrets scanned for. */
  names(): string[] {
    return [...this.#secrets.keys()].sort();
  }

  /**
   * Adds what environment `env` uses: each cluster's admin and agent stand-in kubeconfig
   * credentials, each emulator's platform token (`enforce:token`, `ENFORCE_TOKEN`), and the
   * invite code in each cluster's Secret `gulfstream/mcp-creds` while there is one.
   */
  async collect(env: ReadyFile): Promise<void> {
    for (const c of env.clusters) {
      this.#addKubeconfig(`${c.name} admin`, c.kubeconfig);
      this.#addKubeconfig(`${c.name} agent stand-in`, c.agentKubeconfig);
      const code = await inviteCode(env, c.kubeconfig);
      if (code) this.add(`${c.name} invite code`, code);
    }
    const enforce = env.enforce as EnforceSection | undefined;
    if (enforce) {
      this.add("platform token (enforce:token)", enforce.token);
      enforce.others.forEach((o, i) => this.add(`platform ${i + 2} token`, o.token));
    }
  }

  /** Adds the credentials of each user of the kubeconfig at `file`. */
  #addKubeconfig(what: string, file: string): void {
    const config = parse(fs.readFileSync(file, "utf8")) as {
      users?: { user?: Record<string, unknown> }[];
    };
    for (const { user } of config.users ?? []) {
      for (const field of ["client-key-data", "client-certificate-data", "token"]) {
        const value = user?.[field];
        if (typeof value === "string") this.add(`${what} ${field}`, value);
      }
    }
  }

  /** The secrets found in `text`, read from `source`. */
  scanText(source: string, text: string): SecretHit[] {
    return [...this.#secrets]
      .filter(([, forms]) => forms.some((f) => text.includes(f)))
      .map(([secret]) => ({ secret, source }));
  }

  /**
   * The lines of `text` that hold a secret. They contain secret values: assert on what they
   * say around them, never print them.
   */
  linesWithSecrets(text: string): string[] {
    const forms = [...this.#secrets.values()].flat();
    return text.split("\n").filter((line) => forms.some((f) => line.includes(f)));
  }

  /** The secrets found in the files `files`. */
  scanFiles(files: string[]): SecretHit[] {
    return files.flatMap((f) => this.scanText(f, fs.readFileSync(f, "utf8")));
  }

  /** The secrets found in the log files under each of `dirs` (see {@link logFilesUnder}). */
  scanLogs(...dirs: string[]): SecretHit[] {
    return this.scanFiles(dirs.flatMap(logFilesUnder));
  }
}

/** The invite code in the cluster's Secret `gulfstream/mcp-creds`; undefined when there is none. */
async function inviteCode(env: ReadyFile, kubeconfig: string): Promise<string | undefined> {
  const data = await kubectl(env, kubeconfig, [
    "-n",
    "gulfstream",
    "get",
    "secret",
    "mcp-creds",
    "--ignore-not-found",
    "-o",
    "jsonpath={.data.code}",
  ]);
  const code = Buffer.from(data.trim(), "base64").toString("utf8");
  return code || undefined;
}
