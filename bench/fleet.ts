/**
 * The fleets the benchmark previews: a Pulumi directory program (run by the real CLI, see
 * `tests/support/directory-program.ts`) that declares either N connections, one per cluster of
 * the environment, or N trivial dynamic resources whose provider does nothing. Its size is
 * `fleet.json` beside it, so growing a fleet is "write the size, run up".
 * @module
 */

import * as fs from "node:fs";
import * as path from "node:path";
import {
  BUILT_SDK,
  createDirectoryProgram,
  type CliRun,
  type DirectoryProgram,
} from "../tests/support/directory-program";
import { emulatorStackConfig } from "../tests/support/env";
import type { BenchEnv } from "./environment";

/** What a fleet is made of. */
export type FleetKind = "connections" | "trivial";

/** How long one CLI run may take before it is killed. */
const CLI_TIMEOUT_MS = 6 * 60_000;

/** What `fleet.json` holds. */
interface FleetFile {
  kind: FleetKind;
  count: number;
  group: string;
  kubeconfigs: string[];
}

/**
 * The program. Connections are named after their cluster and wait up to 5 minutes for their
 * agent; trivial resources share one provider object that checks, diffs and creates nothing,
 * as the connections share the SDK's one provider.
 */
const SOURCE = `"use strict";
const fs = require("node:fs");
const path = require("node:path");
const pulumi = require("@pulumi/pulumi");
const fleet = JSON.parse(fs.readFileSync(path.join(__dirname, "fleet.json"), "utf8"));
if (fleet.kind === "connections") {
  const { EnforceClusterConnection } = require(${JSON.stringify(BUILT_SDK)});
  for (let i = 0; i < fleet.count; i++) {
    new EnforceClusterConnection("cluster-" + (i + 1), {
      kubeconfig: pulumi.secret(fs.readFileSync(fleet.kubeconfigs[i], "utf8")),
      group: fleet.group,
      registrationTimeout: "5m",
    });
  }
} else {
  const nothing = {
    async check(_olds, news) { return { inputs: news }; },
    async diff() { return { changes: false }; },
    async create() { return { id: "trivial", outs: {} }; },
    async delete() {},
  };
  for (let i = 0; i < fleet.count; i++) {
    new pulumi.dynamic.Resource(nothing, "trivial-" + (i + 1), {}, {});
  }
}
`;

/** A fleet program of one kind in one environment. */
export interface Fleet {
  kind: FleetKind;
  program: DirectoryProgram;
  /** Declares `count` members; the next `up` creates or deletes the difference. */
  resize(count: number): void;
  /** Runs `pulumi <args>` with `env` added to the CLI's environment. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
}

/** Creates the fleet program `kind` for `env`, its stack initialised and configured. */
export async function createFleet(env: BenchEnv, kind: FleetKind): Promise<Fleet> {
  const { enforce } = env;
  const program = await createDirectoryProgram(
    env.ready,
    `bench-${kind}`,
    "bench",
    emulatorStackConfig(enforce),
    { source: SOURCE },
  );
  const kubeconfigs = env.ready.clusters.map((c) => c.kubeconfig);
  const resize = (count: number) => {
    const file: FleetFile = { kind, count, group: enforce.group, kubeconfigs };
    fs.writeFileSync(path.join(program.dir, "fleet.json"), `${JSON.stringify(file)}\n`);
  };
  resize(0);
  return {
    kind,
    program,
    resize,
    run: (args, extra = {}) => program.cli(args, CLI_TIMEOUT_MS, extra),
  };
}
