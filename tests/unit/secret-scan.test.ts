import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { logFilesUnder, SecretScan } from "../support/secret-scan";

/** The secret scan the e2e scenarios end with: what it finds, and that it names, never shows. */

const TOKEN = "tok_0123456789abcdefghij";
const PEM = [
  "-----BEGIN EC PRIVATE KEY-----",
  "MHcCAQEEIExampleExampleExampleExampleExampleExampleExampleExampleEx",
  "oAoGCCqGSM49AwEHoUQDQgAE",
  "-----END EC PRIVATE KEY-----",
  "",
].join("\n");
const KEY_DATA = Buffer.from(PEM).toString("base64");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "secret-scan-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function scanner(): SecretScan {
  const scan = new SecretScan();
  scan.add("platform token", TOKEN);
  scan.add("client key", KEY_DATA);
  return scan;
}

describe("SecretScan", () => {
  test("finds a secret as itself, in base64, and a kubeconfig key as its decoded PEM", () => {
    const scan = scanner();
    expect(scan.scanText("a", `Bearer ${TOKEN}`)).toEqual([
      { secret: "platform token", source: "a" },
    ]);
    expect(scan.scanText("b", `data: ${Buffer.from(TOKEN).toString("base64")}`)).toEqual([
      { secret: "platform token", source: "b" },
    ]);
    expect(scan.scanText("c", `key: ${JSON.stringify(PEM)}`)).toEqual([
      { secret: "client key", source: "c" },
    ]);
    expect(scan.scanText("d", "nothing secret here")).toEqual([]);
  });

  test("keeps every value added under one name, and refuses values too short to scan for", () => {
    const scan = scanner();
    scan.add("invite code", "first-invite-code-0001");
    scan.add("invite code", "second-invite-code-0002");
    scan.add("invite code", "first-invite-code-0001");
    expect(scan.names()).toEqual(["client key", "invite code", "invite code #2", "platform token"]);
    expect(scan.scanText("log", "first-invite-code-0001")).toEqual([
      { secret: "invite code", source: "log" },
    ]);
    expect(() => scan.add("pin", "1234")).toThrow("secret pin is 4 characters, too short");
  });

  test("scans the log files under a directory: the environment's *.log and the engine's", () => {
    fs.mkdirSync(path.join(dir, "clusters", "cluster-1"), { recursive: true });
    const files = {
      emulator: path.join(dir, "emulator.log"),
      audit: path.join(dir, "clusters", "cluster-1", "audit.log"),
      engine: path.join(dir, "pulumi.host.user.log.INFO.20260101-000000.42"),
      notALog: path.join(dir, "token"),
    };
    fs.writeFileSync(files.emulator, "listening\n");
    fs.writeFileSync(files.audit, `{"user":"${TOKEN}"}\n`);
    fs.writeFileSync(files.engine, `resp: ${KEY_DATA}\n`);
    fs.writeFileSync(files.notALog, TOKEN);
    expect(logFilesUnder(dir)).toEqual([files.audit, files.emulator, files.engine]);
    expect(scanner().scanLogs(dir, path.join(dir, "absent"))).toEqual([
      { secret: "platform token", source: files.audit },
      { secret: "client key", source: files.engine },
    ]);
    expect(scanner().linesWithSecrets(`a\nresp: ${KEY_DATA}\nb`)).toEqual([`resp: ${KEY_DATA}`]);
  });
});
