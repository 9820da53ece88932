import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { main, optionsFromArgs, parseLifetime } from "../../../local/emulator/main";
import { call, removeTempDirs, tempDir } from "../../support/emulator-fixtures";

afterEach(removeTempDirs);

describe("main", () => {
  it("prints one JSON line without the token, serves, and stops on SIGTERM", async () => {
    const dataDir = tempDir();
    const lines: string[] = [];
    const signals = new EventEmitter();
    let printed!: () => void;
    const ready = new Promise<void>((resolve) => (printed = resolve));
    const running = main(["--data-dir", dataDir, "--identity-max-lifetime", "24h"], {
      stdout: (line) => {
        lines.push(line);
        printed();
      },
      signals,
    });
    await ready;
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]!);
    expect(Object.keys(info).sort()).toEqual(["rootGroup", "teamGroup", "tokenFile", "url"]);
    expect(info.tokenFile).toBe(join(dataDir, "token"));
    const token = readFileSync(info.tokenFile, "utf8").trim();
    expect(lines[0]).not.toContain(token);

    const identity = await call(info.url, "POST", `/iam/v1/identities/${info.rootGroup}`, {
      token,
      body: {
        name: "x",
        static: {
          issuer: "https://kubernetes.default.svc",
          subject: "system:serviceaccount:gulfstream:controller",
          issuerKeys: JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA" }] }),
          expiration: "2999-01-01T00:00:00Z",
        },
      },
    });
    const lifetime = Date.parse(identity.json.static.expiration) - Date.now();
    expect(lifetime).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(lifetime).toBeGreaterThan(23 * 3600 * 1000);

    signals.emit("SIGTERM");
    await running;
    expect(signals.listenerCount("SIGTERM")).toBe(0);
    await expect(call(info.url, "GET", "/tenant/v1/clusters")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("reads flags into options and names bad ones", () => {
    const dir = tempDir();
    expect(
      optionsFromArgs(["--data-dir", dir, "--port", "8443", "--public-url", "https://x.test"]),
    ).toMatchObject({
      dataDir: dir,
      port: 8443,
      publicUrl: "https://x.test",
      trustedCAs: [],
      allowInsecureIssuers: false,
    });
    expect(() => optionsFromArgs([])).toThrow(/^--data-dir is required/);
    expect(() => optionsFromArgs(["--data-dir", dir, "--tls-cert", "a"])).toThrow(
      "--tls-cert and --tls-key go together",
    );
    expect(() =>
      optionsFromArgs(["--data-dir", dir, "--trust-ca", join(dir, "missing.pem")]),
    ).toThrow(/^--trust-ca .*missing\.pem: ENOENT/);
    expect(() => optionsFromArgs(["--data-dir", dir, "--bogus"])).toThrow(/bogus/);
  });

  it("parses lifetimes", () => {
    expect(parseLifetime("720h")).toBe(2592000);
    expect(parseLifetime("3600")).toBe(3600);
    expect(parseLifetime("90m")).toBe(5400);
    expect(() => parseLifetime("0s")).toThrow(/must be a positive duration/);
    expect(() => parseLifetime("1w")).toThrow(/must be a positive duration/);
  });
});
