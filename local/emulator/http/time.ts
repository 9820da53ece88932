/**
 * Wire formats for time: RFC 3339 timestamps (protobuf JSON style, UTC, with
 * no fraction when it is zero) and grpc-gateway durations ("600s").
 */

/** Formats epoch milliseconds as an RFC 3339 UTC timestamp. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp into epoch milliseconds; undefined when malformed. */
export function parseTimestamp(text: string): number | undefined {
  if (!TIMESTAMP.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

const DURATION = /^(\d{1,12})(?:\.(\d{1,9}))?s$/;

/** Parses a grpc-gateway duration ("600s", "1.5s") into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const fraction = (match[2] ?? "").padEnd(3, "0").slice(0, 3);
  return Number(match[1]) * 1000 + Number(fraction);
}
