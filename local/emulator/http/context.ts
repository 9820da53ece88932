/** What every route handler receives: the request, parsed bits of it, and the emulator's services. */
import type { IncomingMessage } from "node:http";
import type { FaultRules } from "../faults";
import type { IssuerDiscovery } from "../verification/discovery";
import type { Logger } from "../log";
import type { ResolvedOptions } from "../options";
import type { SigningKey } from "../issuer/signing-key";
import type { Store } from "../store";

/** The long-lived parts of a running emulator. */
export interface Services {
  store: Store;
  options: ResolvedOptions;
  discovery: IssuerDiscovery;
  signingKey: SigningKey;
  /** The base URL the emulator reports as its issuer. */
  issuerUrl: () => string;
  logger: Logger;
  /** The fault rules, when fault injection is on (`--fault-injection`); undefined when off. */
  faults?: FaultRules;
}

/** One request. */
export interface RequestContext {
  services: Services;
  req: IncomingMessage;
  /** Path without the query string, as received. */
  path: string;
  query: URLSearchParams;
  /** This call's audit sequence number. */
  seq: number;
  /** The clock, read once per request. */
  now: Date;
  /** The body as a JSON object (`{}` when empty). */
  json(): Promise<Record<string, unknown>>;
  /** The bearer credential, if any. */
  bearer: string | undefined;
}

/** A successful answer; errors are thrown as ApiError. */
export interface Reply {
  status?: number;
  body: unknown;
}

/** Handles a matched route; `rest` is the decoded path remainder after a prefix route. */
export type Handler = (ctx: RequestContext, rest: string) => Promise<Reply> | Reply;

/** A route: exact `path`, or every path under it when `prefix` is set. */
export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  prefix?: boolean;
  handler: Handler;
}
