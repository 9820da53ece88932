/**
 * Fully qualified container image references, `registry/repository[:tag][@sha256:<64 hex>]`,
 * following the grammar of the distribution project's reference package, narrowed to what
 * agent image overrides need: the registry is mandatory (an override exists to point at a
 * mirror, so a Docker Hub short name is almost certainly a mistake) and the only digest
 * algorithm is sha256.
 * @module
 */

/** A parsed image reference. */
export interface ImageReference {
  /** Registry host, with port when given, e.g. `registry.example.com:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `enforce/controlplane`. */
  repository: string;
  tag?: string;
  /** `sha256:` followed by 64 lowercase hex digits. */
  digest?: string;
}

/** Outcome of {@link parseImageReference}; `reason` says what is wrong and shows the form. */
export type ImageReferenceResult = ({ ok: true } & ImageReference) | { ok: false; reason: string };

/** Appended to every reason. */
export const IMAGE_REFERENCE_FORM =
  'Use registry/repository[:tag][@sha256:<64 hex digits>], e.g. "registry.example.com/enforce/controlplane:v1.2.3".';

const DOMAIN_COMPONENT = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const PATH_COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
// The distribution project caps the name (registry and repository) at 255 characters.
const MAX_NAME_LENGTH = 255;

function fail(problem: string): ImageReferenceResult {
  return { ok: false, reason: `${problem}. ${IMAGE_REFERENCE_FORM}` };
}

/** Whether `host` (`name[:port]`) is a registry host rather than a first repository component. */
function isRegistryHost(host: string): boolean {
  const [name, port, ...rest] = host.split(":");
  if (rest.length > 0 || name === undefined) return false;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return false;
  if (!name.split(".").every((part) => DOMAIN_COMPONENT.test(part))) return false;
  // Docker's own rule for telling "host/repo" from "user/repo".
  return name.includes(".") || port !== undefined || name === "localhost";
}

/**
 * Parses an image reference such as `mirror.example.com/enforce/controlplane:v0.1.255@sha256:…`.
 * Pure; never throws. Tag and digest are each optional; both may be given.
 */
export function parseImageReference(text: string): ImageReferenceResult {
  if (text === "") return fail("the reference is empty");
  if (/\s/.test(text)) return fail("the reference contains whitespace");

  const at = text.indexOf("@");
  const digest = at === -1 ? undefined : text.slice(at + 1);
  let name = at === -1 ? text : text.slice(0, at);
  if (digest !== undefined && !DIGEST.test(digest)) {
    return fail(`the digest "${digest}" is not "sha256:" followed by 64 lowercase hex digits`);
  }

  // A tag follows the last ':' that comes after the last '/'; an earlier ':' is a registry port.
  const colon = name.lastIndexOf(":");
  let tag: string | undefined;
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) {
      return fail(
        `the tag "${tag}" is not valid (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')`,
      );
    }
  }

  const slash = name.indexOf("/");
  const registry = slash === -1 ? "" : name.slice(0, slash);
  const repository = slash === -1 ? name : name.slice(slash + 1);
  if (!isRegistryHost(registry)) {
    return fail(
      `"${name}" does not start with a registry host (a name with a '.' or a port, or localhost); give the full reference of the mirrored image`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    return fail(`the name is ${name.length} characters long, more than ${MAX_NAME_LENGTH}`);
  }
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      return fail(
        `the repository component "${component}" is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')`,
      );
    }
  }

  return {
    ok: true,
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}
