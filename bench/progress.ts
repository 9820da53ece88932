/**
 * Progress lines on stderr, each with the time since the benchmark started, so that stdout
 * holds only the table.
 * @module
 */

const started = Date.now();

/** Prints one progress line. */
export function progress(line: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(
    `[bench ${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${line}\n`,
  );
}

/** Seconds since the benchmark started. */
export function elapsedSeconds(): number {
  return (Date.now() - started) / 1000;
}
