/**
 * Command-line entry: starts the emulator from flags, prints one JSON line
 * `{"url","rootGroup","tokenFile"}` to stdout once listening, and stops on
 * SIGTERM or SIGINT. The API token is never printed; it is in `<data-dir>/token`.
 *
 *   node dist/local/emulator/main.js --data-dir DIR [--port N] [--tls-cert PEM --tls-key PEM]
 *     [--trust-ca PEM]... [--identity-max-lifetime 720h] [--public-url URL]
 *     [--root-group UIDP] [--allow-insecure-issuers] [--fault-injection]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startEmulator } from "./emulator";
import type { EmulatorOptions } from "./options";

const USAGE =
  "usage: main --data-dir DIR [--port N] [--tls-cert FILE --tls-key FILE] [--trust-ca FILE]... " +
  "[--identity-max-lifetime DURATION] [--public-url URL] [--root-group UIDP] [--allow-insecure-issuers] [--fault-injection]";

/** Where `main` writes and which signals stop it; injectable for tests. */
export interface MainIO {
  stdout: (line: string) => void;
  /** Emits "SIGTERM"/"SIGINT". @default process */
  signals: NodeJS.EventEmitter;
}

const UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses "3600", "3600s", "90m", "720h" or "30d" into seconds. */
export function parseLifetime(text: string): number {
  const [, count, unit] = /^(\d+)([smhd]?)$/.exec(text) ?? [];
  if (!count || Number(count) === 0) {
    throw new TypeError(
      `--identity-max-lifetime must be a positive duration such as 720h or 2592000s, got ${text}`,
    );
  }
  return Number(count) * UNITS[(unit || "s") as keyof typeof UNITS];
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new TypeError(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/** Turns command-line flags into emulator options. */
export function optionsFromArgs(argv: string[]): EmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "trust-ca": { type: "string", multiple: true },
      "identity-max-lifetime": { type: "string" },
      "public-url": { type: "string" },
      "root-group": { type: "string" },
      "allow-insecure-issuers": { type: "boolean" },
      "fault-injection": { type: "boolean" },
    },
  });
  if (!values["data-dir"]) throw new TypeError(`--data-dir is required\n${USAGE}`);
  if (Boolean(values["tls-cert"]) !== Boolean(values["tls-key"])) {
    throw new TypeError("--tls-cert and --tls-key go together");
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`--port must be a port number, got ${values.port}`);
  }
  return {
    dataDir: values["data-dir"],
    port,
    tls:
      values["tls-cert"] && values["tls-key"]
        ? {
            cert: readPem("--tls-cert", values["tls-cert"]),
            key: readPem("--tls-key", values["tls-key"]),
          }
        : undefined,
    trustedCAs: (values["trust-ca"] ?? []).map((path) => readPem("--trust-ca", path)),
    identityMaxLifetimeSeconds:
      values["identity-max-lifetime"] === undefined
        ? undefined
        : parseLifetime(values["identity-max-lifetime"]),
    publicUrl: values["public-url"],
    rootGroup: values["root-group"],
    allowInsecureIssuers: values["allow-insecure-issuers"] ?? false,
    faultInjection: values["fault-injection"] ?? false,
  };
}

/** Runs the emulator until SIGTERM or SIGINT; resolves once it has stopped. */
export async function main(argv: string[], io: Partial<MainIO> = {}): Promise<void> {
  const stdout = io.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const signals = io.signals ?? process;
  const emulator = await startEmulator(optionsFromArgs(argv));
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      signals.off("SIGTERM", stop);
      signals.off("SIGINT", stop);
      resolve();
    };
    signals.on("SIGTERM", stop);
    signals.on("SIGINT", stop);
    stdout(
      JSON.stringify({
        url: emulator.url,
        rootGroup: emulator.rootGroup,
        teamGroup: emulator.teamGroup,
        tokenFile: emulator.tokenPath,
      }),
    );
  });
  await emulator.close();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`enforce emulator: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
