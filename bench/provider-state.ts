/**
 * The serialized provider: how big `__provider` is in a stack's state, and how long Pulumi
 * takes to serialize the provider object, as `pulumi.dynamic.Resource` does for each program.
 * @module
 */

import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderImplementation } from "../provider/dynamic";
import { repoRoot } from "../tests/support/env";
import type { Fleet } from "./fleet";
import { figure, timed, type Figure } from "./stats";

/** What the state says about the serialized provider. */
export interface ProviderInState {
  /** Characters of one resource's `__provider`. */
  providerChars: number;
  /** How many resources store it (each one a copy). */
  copies: number;
  /** The exported state's size, in characters. */
  stateChars: number;
}

/** Reads `pulumi stack export` of `fleet` and measures `__provider` in it. */
export async function providerInState(fleet: Fleet): Promise<ProviderInState> {
  const run = await fleet.run(["stack", "export"]);
  const state = JSON.parse(run.stdout) as {
    deployment: { resources?: Array<{ type: string; outputs?: Record<string, unknown> }> };
  };
  const texts = (state.deployment.resources ?? [])
    .map((r) => r.outputs?.__provider)
    .filter((t): t is string => typeof t === "string");
  return {
    providerChars: texts[0]?.length ?? 0,
    copies: texts.length,
    stateChars: run.stdout.length,
  };
}

/**
 * Serializes the built provider object `repeats` times; seconds per serialization. The first
 * one pays for loading the serializer's own modules, so it is kept apart.
 */
export async function serializeTimes(repeats: number): Promise<{ first: number; then: Figure }> {
  const dynamic = path.join(repoRoot, "dist", "provider", "dynamic.js");
  const { enforceProvider } = require(dynamic) as {
    enforceProvider: Partial<ProviderImplementation>;
  };
  const once = () =>
    timed(() => pulumi.runtime.serializeFunction(() => enforceProvider, { allowSecrets: true }));
  const first = (await once()).seconds;
  const then: number[] = [];
  for (let i = 0; i < repeats; i++) then.push((await once()).seconds);
  return { first, then: figure(then) };
}
