import {
  DEFAULT_API_URL,
  DEFAULT_ISSUER_URL,
  PlatformConfigError,
  missingTokenError,
  resolvePlatformConfig,
} from "../../provider/platform";

function configError(fn: () => unknown): PlatformConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlatformConfigError);
    return err as PlatformConfigError;
  }
  throw new Error("expected a PlatformConfigError");
}

describe("resolvePlatformConfig", () => {
  test("defaults, with no token and no CA", () => {
    expect(resolvePlatformConfig({}, {})).toEqual({
      apiUrl: DEFAULT_API_URL,
      issuerUrl: DEFAULT_ISSUER_URL,
      token: undefined,
      caFile: undefined,
    });
    expect([DEFAULT_API_URL, DEFAULT_ISSUER_URL]).toEqual([
      "https://console-api.enforce.dev",
      "https://issuer.enforce.dev",
    ]);
  });

  test("environment variables stand in for missing stack config", () => {
    const env = {
      ENFORCE_API_URL: "https://api.example.com/",
      ENFORCE_ISSUER_URL: "https://issuer.example.com",
      ENFORCE_TOKEN: " env-token\n",
      ENFORCE_CA_FILE: "/tmp/ca.pem",
    };
    expect(resolvePlatformConfig({}, env)).toEqual({
      apiUrl: "https://api.example.com",
      issuerUrl: "https://issuer.example.com",
      token: "env-token",
      caFile: "/tmp/ca.pem",
    });
  });

  test("stack config wins over the environment; empty stack values fall through", () => {
    const env = {
      ENFORCE_API_URL: "https://env-api.example.com",
      ENFORCE_ISSUER_URL: "https://env-issuer.example.com",
      ENFORCE_TOKEN: "env-token",
    };
    const stack = {
      "enforce:apiUrl": "http://127.0.0.1:8443",
      "enforce:issuerUrl": "",
      "enforce:token": "stack-token",
    };
    expect(resolvePlatformConfig(stack, env)).toEqual({
      apiUrl: "http://127.0.0.1:8443",
      issuerUrl: "https://env-issuer.example.com",
      token: "stack-token",
      caFile: undefined,
    });
  });

  test("accepts a dynamic provider's Config object keyed by full name", () => {
    const values: Record<string, string> = {
      "enforce:apiUrl": "https://localhost:9443/base/",
      "enforce:token": "t",
    };
    const config = { get: (key: string) => values[key] };
    expect(resolvePlatformConfig(config, {})).toMatchObject({
      apiUrl: "https://localhost:9443/base",
      token: "t",
    });
  });

  test.each([
    "http://127.0.0.1:1234",
    "http://localhost:1",
    "http://[::1]:2",
    "http://a.localhost",
  ])("plain http is accepted on loopback: %s", (url) => {
    expect(resolvePlatformConfig({ "enforce:apiUrl": url }, {}).apiUrl).toBe(url);
  });

  test("plain http elsewhere is refused, naming the key and how to set it", () => {
    const err = configError(() =>
      resolvePlatformConfig({ "enforce:apiUrl": "http://console-api.example.com" }, {}),
    );
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_CONFIG",
      name: "PlatformConfigError",
      key: "enforce:apiUrl",
      envVar: "ENFORCE_API_URL",
    });
    expect(err.message).toBe(
      'enforce:apiUrl must use https unless the host is a loopback address (got "http://console-api.example.com"). ' +
        "Set it with `pulumi config set enforce:apiUrl https://...` or ENFORCE_API_URL; " +
        "plain http is accepted only for loopback hosts such as the local emulator.",
    );
  });

  test("a bad URL from the environment says it came from there", () => {
    const err = configError(() => resolvePlatformConfig({}, { ENFORCE_ISSUER_URL: "issuer" }));
    expect(err).toMatchObject({ code: "ERR_PLATFORM_CONFIG", key: "enforce:issuerUrl" });
    expect(err.message).toBe(
      'enforce:issuerUrl (set through ENFORCE_ISSUER_URL) is not a valid URL (got "issuer"). ' +
        "Set it with `pulumi config set enforce:issuerUrl https://...` or ENFORCE_ISSUER_URL; " +
        "plain http is accepted only for loopback hosts such as the local emulator.",
    );
  });

  test("URLs with credentials, queries or other schemes are refused", () => {
    const withPassword = configError(() =>
      resolvePlatformConfig({ "enforce:apiUrl": "https://user:hunter2@api.example.com" }, {}),
    );
    expect(withPassword.message).toMatch(
      /^enforce:apiUrl must not contain a user name or password\./,
    );
    expect(withPassword.message).not.toContain("hunter2");
    expect(
      configError(() => resolvePlatformConfig({ "enforce:apiUrl": "https://a.example?x=1" }, {}))
        .message,
    ).toMatch(
      /^enforce:apiUrl must not have a query or fragment \(got "https:\/\/a\.example\?x=1"\)\./,
    );
    expect(
      configError(() => resolvePlatformConfig({ "enforce:apiUrl": "ftp://a.example" }, {})).message,
    ).toMatch(/^enforce:apiUrl must be an https URL \(got "ftp:\/\/a\.example"\)\./);
  });

  test("a token with inner whitespace is refused without quoting it", () => {
    const err = configError(() => resolvePlatformConfig({}, { ENFORCE_TOKEN: "abc def" }));
    expect(err).toMatchObject({ code: "ERR_PLATFORM_CONFIG", key: "enforce:token" });
    expect(err.message).toBe(
      "enforce:token (set through ENFORCE_TOKEN) contains whitespace or control characters. " +
        "Set it again, without surrounding quotes or line breaks: " +
        "`pulumi config set --secret enforce:token <token>`.",
    );
  });

  test("missingTokenError names the call, key, variable and command", () => {
    const err = missingTokenError("createInvite");
    expect(err).toMatchObject({ code: "ERR_PLATFORM_CONFIG", key: "enforce:token" });
    expect(err.message).toBe(
      "enforce:token is not set (nor ENFORCE_TOKEN), and createInvite needs a platform token. " +
        "Set it with `pulumi config set --secret enforce:token <token>` or export ENFORCE_TOKEN; " +
        "for the local emulator the token is in the ready.json written by `enforce-local up`.",
    );
  });
});
