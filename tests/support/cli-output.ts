/**
 * What the Pulumi CLI printed, made comparable: the part about one resource cut out of a
 * preview or up, and everything that varies between runs (ids, key ids, ports, times, temp
 * paths) replaced by stable placeholders such as `<uid-1>`, `<kid>` or `<time>`.
 */

/** A value the test knows, and the placeholder it reads as, e.g. the group id as `<group>`. */
export type KnownValue = [value: string, placeholder: string];

/**
 * Generic masks, applied after the known values, in order. A placeholder ending in `-N` is
 * numbered by first appearance within one text, so the same value reads the same everywhere
 * in it and two different values stay told apart (`<uid-1> => <uid-2>`).
 */
const MASKS: Array<[RegExp, string]> = [
  // ISO timestamps (renewAt, registeredAt, identity times).
  [/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g, "<time>"],
  // Kubernetes UIDs (clusterUid, remoteId, agentNamespaceUid) and other UUIDs.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<uid-N>"],
  // SHA-256 digests in hex (the CA bundle's caSha256).
  [/\b[0-9a-f]{64}\b/g, "<sha256>"],
  // Enforce group and resource ids (UIDP segments: 40 hex digits, then 16 per level).
  [/\b[0-9a-f]{40}\b/g, "<group-N>"],
  [/(?<=\/)[0-9a-f]{16}\b/g, "<id-N>"],
  // Key ids: RFC 7638 thumbprints, 43 characters of base64url.
  [/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, "<kid-N>"],
  // Ports of loopback URLs not known to the test.
  [/\b(127\.0\.0\.1|localhost):\d+\b/g, "$1:<port>"],
  // Connection ids (the resource's id, connectionId): 24 hex digits.
  [/\b[0-9a-f]{24}\b/g, "<connection-N>"],
  // How long a step has run, as the CLI's rows show it: "(0s)", "(0.07s)", "(1m2s)".
  [/\((?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s\)/g, "(<duration>)"],
];

/**
 * Replaces every known value by its placeholder (longest first, so a URL goes before its
 * port), then applies the generic masks.
 */
export function maskOutput(text: string, known: readonly KnownValue[]): string {
  let out = text;
  for (const [value, placeholder] of [...known].sort((a, b) => b[0].length - a[0].length)) {
    if (value) out = out.split(value).join(placeholder);
  }
  for (const [pattern, placeholder] of MASKS) {
    if (!placeholder.includes("-N>")) {
      out = out.replace(pattern, placeholder);
      continue;
    }
    const numbers = new Map<string, number>();
    out = out.replace(pattern, (match) => {
      if (!numbers.has(match)) numbers.set(match, numbers.size + 1);
      return placeholder.replace("-N>", `-${numbers.get(match)}>`);
    });
  }
  return out;
}

/** Which resource's part of the output to keep: its type token and name. */
export interface ResourceRef {
  type: string;
  name: string;
}

/** What a CLI run printed. */
export interface PrintedRun {
  args: string[];
  stdout: string;
  stderr: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const indent = (line: string) => line.length - line.trimStart().length;

/**
 * The lines from `lines[start]` on that are indented deeper than it (a block the CLI prints
 * under a header), the header included.
 */
function blockAt(lines: string[], start: number): string[] {
  const block = [lines[start]!];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || indent(line) <= indent(lines[start]!)) break;
    block.push(line);
  }
  return block;
}

/**
 * The part of what the CLI printed that is about resource `ref`, in the order printed:
 * - the command (`$ pulumi preview --diff`), and the CLI's `Previewing update (stack):` and
 *   `Updating (stack):` lines, which tell the parts of an `up` apart;
 * - under `--diff`, the resource's block (its `+-type: (replace)` header and every property
 *   line under it);
 * - without `--diff`, the resource's rows (`+- type name replace [diff: ...]; message`);
 * - the resource's block of the Diagnostics section, under `Diagnostics:`;
 * - the summary (`Resources:` and its counts);
 * - stderr, after a `--- stderr ---` line: `--diff` prints the provider's messages there.
 *
 * Left out: the stack's own rows and diagnostics (the CLI's own warnings), other resources, the
 * `@ previewing update....` ticks, the `Duration:` line, and the stack's outputs.
 */
export function connectionPart(run: PrintedRun, ref: ResourceRef): string {
  const lines = run.stdout.split("\n");
  const kept: string[] = [`$ pulumi ${run.args.join(" ")}`];
  const header = new RegExp(`^\\s*[-+~<>=*]{0,2}\\s*${escape(ref.type)}: \\(`);
  const row = new RegExp(
    `^\\s*(?:[-+~<>=*]{1,2}\\s+)?${escape(ref.type)} ${escape(ref.name)}(?: |$)`,
  );
  const diagnostics = `${ref.type} (${ref.name}):`;
  const urn = `::${ref.type}::${ref.name}]`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (
      header.test(line) &&
      lines[i + 1 + (lines[i + 1]?.includes("[id=") ? 1 : 0)]?.endsWith(urn)
    ) {
      const block = blockAt(lines, i);
      kept.push(...block);
      i += block.length - 1;
    } else if (/^(Previewing update|Updating) \(/.test(line) || row.test(line)) {
      kept.push(line);
    } else if (line.trim() === diagnostics) {
      const block = blockAt(lines, i);
      kept.push("Diagnostics:", ...block);
      i += block.length - 1;
    } else if (line === "Resources:") {
      const block = blockAt(lines, i);
      kept.push(...block);
      i += block.length - 1;
    }
  }
  const stderr = run.stderr.split("\n").filter((l) => l.trim() !== "");
  if (stderr.length > 0) kept.push("--- stderr ---", ...stderr);
  return `${kept.join("\n")}\n`;
}

/**
 * Collapses runs of equal consecutive lines into one: the CLI reprints a resource's row when
 * only its elapsed time changed, which reads the same once masked.
 */
export function collapseRepeats(text: string): string {
  return text
    .split("\n")
    .filter((line, i, all) => i === 0 || line !== all[i - 1])
    .join("\n");
}

/**
 * Drops the lines of the provider's "still waiting for the agent (…s so far)" progress: how many
 * a run prints depends only on how long registration took on the machine that ran it.
 */
export function withoutWaitProgress(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.includes("still waiting for the agent ("))
    .join("\n");
}

/**
 * Replaces the rows an `up` prints while it runs (after `Updating (…):`, up to the Diagnostics)
 * with one line: the steps of a replacement run concurrently, so the order in which their
 * progress rows interleave varies from run to run. The Diagnostics after them keep what the
 * provider said, in its order.
 */
export function withoutUpdateRows(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^Updating \(/.test(l));
  if (start < 0) return text;
  let end = start + 1;
  while (end < lines.length && /^ [-+~<>=* ]{2} /.test(lines[end]!)) end++;
  if (end === start + 1) return text;
  return [
    ...lines.slice(0, start + 1),
    "(rows of the running update left out)",
    ...lines.slice(end),
  ].join("\n");
}
