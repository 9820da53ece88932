import * as fs from "node:fs";
import * as path from "node:path";

let cached: string | undefined;

/**
 * The repository root: the directory holding the package.json of
 * pulumi-enforce (local/ has a package.json of its own, which is skipped).
 * Code runs both from TypeScript sources (tests) and from `dist/` (the
 * enforce-local bin), so the depth below the root differs; walking up finds
 * it either way.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, "utf8")) as { name?: string };
      if (pkg.name === "pulumi-enforce") return (cached = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the pulumi-enforce package root above ${__dirname}`);
    dir = parent;
  }
}
