/**
 * Diagnostics. Silent unless `NODE_DEBUG=enforce:emulator` is set or a
 * logger is passed in the options. Callers never pass tokens, codes or keys.
 */
import { debuglog } from "node:util";

/** Receives one diagnostic line. */
export type Logger = (line: string) => void;

const debug = debuglog("enforce:emulator");

/** The default logger: `util.debuglog("enforce:emulator")`. */
export const defaultLogger: Logger = (line) => debug("%s", line);
