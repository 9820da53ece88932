/**
 * Validation of the platform's base URLs, shared by the config resolver (which
 * reports a `PlatformConfigError`) and the client constructors (which
 * report a `TypeError` naming the option).
 * @module
 */

const LOOPBACK_NAMES = new Set(["localhost", "[::1]"]);

/** Whether a URL hostname is a loopback address, where plain http is acceptable. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    LOOPBACK_NAMES.has(host) || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/** A parsed base URL, or why the value is not one. */
export type BaseUrlResult = { ok: true; url: URL } | { ok: false; problem: string };

/**
 * Parses a base URL: https anywhere, http only on loopback (the local
 * emulator), no credentials, query or fragment. The returned URL has no
 * trailing slash in its path so that call paths can be appended.
 */
export function parseBaseUrl(value: string): BaseUrlResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, problem: `is not a valid URL (got ${JSON.stringify(value)})` };
  }
  // Never echo a URL that carries credentials: the message would leak them.
  if (url.username !== "" || url.password !== "") {
    return { ok: false, problem: "must not contain a user name or password" };
  }
  const shown = JSON.stringify(value);
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      problem: `must use https unless the host is a loopback address (got ${shown})`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, problem: `must be an https URL (got ${shown})` };
  }
  if (url.search !== "" || url.hash !== "") {
    return { ok: false, problem: `must not have a query or fragment (got ${shown})` };
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return { ok: true, url };
}

/** Appends a call path (starting with `/`, possibly with a query) to a base URL. */
export function joinUrl(base: URL, pathAndQuery: string): URL {
  return new URL(`${base.origin}${base.pathname.replace(/\/+$/, "")}${pathAndQuery}`);
}
