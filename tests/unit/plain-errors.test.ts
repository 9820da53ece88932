import { CheckFailedError } from "../../provider/errors";
import type { ProviderImplementation } from "../../provider/dynamic";
import { withPlainErrors } from "../../provider/plain-errors";

/** An implementation whose `diff` throws `err`. */
function throwing(err: Error): ProviderImplementation {
  const never = () => Promise.reject(new Error("not called"));
  return withPlainErrors({
    configure: never,
    check: never,
    diff: () => Promise.reject(err),
    create: never,
    read: never,
    update: never,
    delete: never,
  });
}

/** What `diff` rejected with. */
function rejection(impl: ProviderImplementation): Promise<Error> {
  return impl.diff("id", {}, {}).then(
    () => new Error("diff resolved"),
    (e: Error) => e,
  );
}

/** What the dynamic-provider host writes to stderr (and the CLI shows) for an error. */
const printed = (e: Error) => `${String(e)}: ${e.stack}`;

describe("the provider's errors as the CLI shows them", () => {
  test("one of ours: its code and message, no stack trace", async () => {
    const failure = { property: "kubeconfig", reason: "refused. Fix: start it." };
    const err = await rejection(throwing(new CheckFailedError([failure])));
    expect(err).toBeInstanceOf(CheckFailedError);
    expect(printed(err)).toBe(
      "ERR_CONNECTION_CHECK_FAILED: the connection's check failed: kubeconfig: refused. Fix: start it.",
    );
    expect(printed(err)).not.toMatch(/\n\s+at /);
  });

  test("any other error keeps its stack: it is a defect, and the trace helps report it", async () => {
    const err = await rejection(throwing(new TypeError("x is undefined")));
    expect(printed(err)).toMatch(/^TypeError: x is undefined: TypeError: x is undefined\n\s+at /);
  });
});
