/**
 * Request paths. Ids are UIDPs (`<root>/<seg>/<seg>`) that grpc-gateway
 * matches as `{id=**}`: each segment is encoded, the slashes stay.
 * @module
 */

/**
 * `prefix` followed by the id, segment-wise encoded.
 * @throws TypeError naming `option` when `id` is not a plausible UIDP.
 */
export function idPath(prefix: string, id: string, option: string): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`${option} must be a non-empty id (a UIDP), got ${JSON.stringify(id)}`);
  }
  const segments = id.split("/");
  // Empty or dot segments would address another resource once normalised.
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new TypeError(
      `${option} must be a UIDP like "<root>/<segment>", without empty or dot segments; got ${JSON.stringify(id)}`,
    );
  }
  return `${prefix}/${segments.map(encodeURIComponent).join("/")}`;
}

/** Appends the defined, non-empty parameters, in the order given. */
export function withQuery(
  path: string,
  params: ReadonlyArray<readonly [string, string | number | undefined]>,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of params) {
    if (value !== undefined && value !== "") query.append(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
