import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../local/cli";

/** `enforce-local up --latency-ms`: a value it cannot use is a usage error before anything starts. */
test.each(["-5", "abc", "1.5", "10001", ""])("--latency-ms %j is refused", async (value) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-cli-"));
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    expect(await main(["up", "--dir", dir, `--latency-ms=${value}`])).toBe(2);
  } finally {
    spy.mockRestore();
  }
  expect(written.join("")).toContain(
    `--latency-ms must be a whole number of milliseconds from 0 to 10000, got "${value}"`,
  );
  // Nothing was started: the directory was not even claimed.
  expect(fs.readdirSync(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});
