import { configure } from "../../provider/configure";
import { createImplementation } from "../../provider/impl";
import type { LifecycleContext } from "../../provider/lifecycle/context";
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

/**
 * An implementation whose operations' contexts are only recorded, and the platform settings the
 * last one was given: what `configure` passes on.
 */
function configured() {
  let last: (env: NodeJS.ProcessEnv) => unknown = () => undefined;
  const implementation = createImplementation((_urn, config) => {
    last = (env) => config.platformConfig(env);
    return {
      now: () => new Date(0),
      progress: (_line: string): void => undefined,
    } as LifecycleContext;
  });
  const platformConfig = (env: NodeJS.ProcessEnv) => {
    void implementation.diff("id", {}, {});
    return last(env);
  };
  return { implementation, platformConfig };
}

describe("configure", () => {
  test("keeps the enforce:* settings from stack config, which win over the environment", async () => {
    const config = configure({
      config: stackConfig({
        "enforce:apiUrl": "https://api.example.com/",
        "enforce:token": "stack-token",
        "other:key": "ignored",
      }),
    });
    expect(
      config.platformConfig({
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
    const { implementation, platformConfig } = configured();
    await expect(
      implementation.configure({
        config: stackConfig({ "enforce:apiUrl": "http://api.example.com" }),
      }),
    ).resolves.toBeUndefined();
    expect(() => platformConfig({})).toThrow(/enforce:apiUrl/);
  });

  test("each configure replaces what the previous one kept", async () => {
    const { implementation, platformConfig } = configured();
    await implementation.configure({ config: stackConfig({ "enforce:token": "stack-token" }) });
    await implementation.configure({ config: stackConfig({}) });
    expect(platformConfig({})).toMatchObject({ apiUrl: DEFAULT_API_URL, token: undefined });
  });
});
