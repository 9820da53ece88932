/**
 * The provider's errors as the Pulumi CLI shows them. When `check`, `diff`, `read` or `delete`
 * throws, the dynamic-provider host of `@pulumi/pulumi` writes `${err}: ${err.stack}` to its
 * stderr, which the CLI prints: a stack trace under a message that already says what happened
 * and what to do. Each {@link EnforceError} therefore leaves the provider as its code and message
 * alone (`ERR_CONNECTION_CHECK_FAILED: the connection's check failed: ...`). Any other error keeps
 * its stack: that one is a defect, and the trace is what a report of it needs.
 * @module
 */

import type { ProviderImplementation } from "./dynamic";
import { EnforceError } from "./util/errors";

/** `impl`, its operations rethrowing the provider's own errors without a stack trace. */
export function withPlainErrors(impl: ProviderImplementation): ProviderImplementation {
  const plain =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await op(...args);
      } catch (err) {
        throw plainError(err);
      }
    };
  return {
    configure: plain(impl.configure.bind(impl)),
    check: plain(impl.check.bind(impl)),
    diff: plain(impl.diff.bind(impl)),
    create: plain(impl.create.bind(impl)),
    read: plain(impl.read.bind(impl)),
    update: plain(impl.update.bind(impl)),
    delete: plain(impl.delete.bind(impl)),
  };
}

/** An {@link EnforceError} whose `String()` is its code and whose stack is its message. */
export function plainError(err: unknown): unknown {
  if (!(err instanceof EnforceError)) return err;
  const { code, message } = err;
  Object.defineProperty(err, "stack", { value: message, configurable: true, writable: true });
  Object.defineProperty(err, "toString", { value: () => code, configurable: true });
  return err;
}
