import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./env";

const run = promisify(execFile);

/** The `pulumi-enforce` bin, as a user runs it (from the build in `dist/`). */
export const pulumiEnforceBin = path.join(repoRoot, "bin/pulumi-enforce.js");

/** What one run of the bin did. */
export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pulumi-enforce <args>` with Node.js; resolves whatever its exit status. */
export async function runPulumiEnforce(args: string[], env?: NodeJS.ProcessEnv): Promise<BinRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [pulumiEnforceBin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
