import type { RunningEmulator } from "../../../local/emulator/emulator";
import { call, Clock, removeTempDirs, startTestEmulator } from "../../support/emulator-fixtures";

/** `POST /_emulator/v1/tokens`: another API token for the caller's group, for rotation tests. */

let emu: RunningEmulator;
const logged: string[] = [];

beforeEach(async () => {
  logged.length = 0;
  emu = await startTestEmulator(new Clock(), { logger: (line: string) => logged.push(line) });
});

afterEach(async () => {
  await emu.close();
  removeTempDirs();
});

const mint = (token?: string) => call(emu.url, "POST", "/_emulator/v1/tokens", { token, body: {} });

describe("minting an API token", () => {
  it("answers a new token of the root group; both it and the old one are accepted", async () => {
    const res = await mint(emu.token);
    expect(res.status).toBe(200);
    const token = res.json.token as string;
    expect(token).toMatch(/^\S{20,}$/);
    expect(token).not.toBe(emu.token);
    for (const bearer of [token, emu.token]) {
      const listed = await call(emu.url, "GET", "/tenant/v1/clusters", { token: bearer });
      expect(listed.status).toBe(200);
    }
    // The emulator's log says a token was minted, never which.
    expect(logged).toContain(`API token minted for group ${emu.rootGroup}`);
    expect(logged.join("\n")).not.toContain(token);
  });

  it("refuses a caller without a token, and one whose token is not the root group's", async () => {
    expect((await mint()).status).toBe(401);
    const teamToken = emu.createToken(emu.teamGroup);
    const refused = await mint(teamToken);
    expect(refused.status).toBe(403);
    expect(refused.json.message).toBe("API tokens are minted only with a root group's API token");
  });
});
