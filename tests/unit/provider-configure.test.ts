import { configure, platformConfig } from "../../provider/configure";
import { DEFAULT_API_URL } from "../../provider/platform";

/** A dynamic provider's `Config`, as the dynamic-provider host builds it from stack config. */
function stackConfig(values: Record<string, string>) {
  return {
    get: (key: string) => values[key],
    require: (key: string) => {
      if (values[key] === undefined) throw new Error(`missing ${key}`);
      return values[key];
    },
  };
}

describe("configure", () => {
  test("keeps the enforce:* settings from stack config, which win over the environment", async () => {
    await configure({
      config: stackConfig({
        "enforce:apiUrl": "https://api.example.com/",
        "enforce:token": "stack-token",
        "other:key": "ignored",
      }),
    });
    expect(
      platformConfig({
        ENFORCE_TOKEN: "env-token",
        ENFORCE_ISSUER_URL: "https://issuer.example.com",
      }),
    ).toEqual({
      apiUrl: "https://api.example.com",
      issuerUrl: "https://issuer.example.com",
      token: "stack-token",
      caFile: undefined,
    });
  });

  test("a bad setting does not fail configure (check and preview never need it), only its use", async () => {
    await expect(
      configure({ config: stackConfig({ "enforce:apiUrl": "http://api.example.com" }) }),
    ).resolves.toBeUndefined();
    expect(() => platformConfig({})).toThrow(/enforce:apiUrl/);
  });

  test("each configure replaces what the previous one kept", async () => {
    await configure({ config: stackConfig({}) });
    expect(platformConfig({})).toMatchObject({ apiUrl: DEFAULT_API_URL, token: undefined });
  });
});
