import { spawn } from "node:child_process";
import * as readline from "node:readline";

/** A Go build that could not run or failed; `output` holds the tail of what go printed. */
export class GoBuildError extends Error {
  readonly code = "ERR_GO_BUILD" as const;
  override name = "GoBuildError";
  constructor(
    message: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface GoBuildOptions {
  moduleDir: string;
  packages: string[];
  outDir: string;
  ldflags: string;
  progress: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `go build` for several main packages of one module into `outDir`,
 * reporting how many of the packages it depends on have been compiled, so a
 * person watching a first build (several minutes) sees it move.
 */
export async function goBuild(opts: GoBuildOptions): Promise<void> {
  const env = { ...process.env, ...opts.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly" };
  const total = await countDeps(opts, env);
  const args = [
    "build",
    "-v",
    "-trimpath",
    "-ldflags",
    opts.ldflags,
    "-o",
    opts.outDir + "/",
    ...opts.packages,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn("go", args, {
      cwd: opts.moduleDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tail: string[] = [];
    let compiled = 0;
    let lastReport = Date.now();
    const started = Date.now();
    const rl = readline.createInterface({ input: child.stderr });
    rl.on("line", (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (!line.startsWith("go: ") && !line.includes(" ")) compiled++;
      if (Date.now() - lastReport >= 15000) {
        lastReport = Date.now();
        const secs = Math.round((Date.now() - started) / 1000);
        opts.progress(`  compiled ${compiled}/${total || "?"} packages (${secs}s)`);
      }
    });
    child.stdout.resume();
    child.on("error", (err) =>
      reject(
        new GoBuildError(
          `could not run "go" (${(err as NodeJS.ErrnoException).code ?? err.message}): the first run builds ` +
            `the local toolchain from the Go module proxy and needs Go 1.26 or newer on PATH`,
          "",
          { cause: err },
        ),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new GoBuildError(
            `go build in ${opts.moduleDir} exited with ${code}:\n${tail.join("\n")}`,
            tail.join("\n"),
          ),
        );
    });
  });
}

/** Runs one `go` command in `cwd` and returns what it printed on stdout. */
export async function goOutput(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, {
      cwd,
      env: { ...process.env, ...env, GOFLAGS: "-mod=readonly" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) =>
      reject(new GoBuildError(`could not run "go ${args[0]}": ${e.message}`, "", { cause: e })),
    );
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8").trim();
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else
        reject(
          new GoBuildError(
            `go ${args.join(" ")} in ${cwd} exited with ${code}:\n${stderr}`,
            stderr,
          ),
        );
    });
  });
}

async function countDeps(opts: GoBuildOptions, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("go", ["list", "-deps", ...opts.packages], {
      cwd: opts.moduleDir,
      env,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let lines = 0;
    child.stdout.on("data", (b: Buffer) => {
      for (const c of b) if (c === 10) lines++;
    });
    child.on("error", () => resolve(0));
    child.on("close", (code) => resolve(code === 0 ? lines : 0));
  });
}
