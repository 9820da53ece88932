/**
 * The shape of `bench/results/latest.json`: every raw sample, every median, and the ratios the
 * table prints.
 * @module
 */

import type { CreateSample } from "./create-split";
import type { FleetKind } from "./fleet";
import type { EnvironmentMemory, MachineInfo } from "./machine";
import type { ProviderInState } from "./provider-state";
import type { ClusterRequests } from "./requests";
import type { Figure } from "./stats";

/** The engine settings a preview runs with. */
export type Engine = "default" | "parallel-diff";

/** One preview configuration's timings (seconds). */
export interface PreviewPoint {
  latencyMs: number;
  engine: Engine;
  kind: FleetKind;
  size: number;
  seconds: Figure;
}

/** What the clusters and the emulator saw of one no-change preview of connections. */
export interface RequestSample {
  latencyMs: number;
  engine: Engine;
  size: number;
  clusters: ClusterRequests[];
  /** The emulator's calls other than the agents', by `METHOD path`. */
  emulator: Record<string, number>;
}

/** Everything one run measured. */
export interface BenchResults {
  machine: MachineInfo;
  /** Repeats per figure, by measurement. */
  repeats: Record<string, number>;
  totalSeconds: number;
  previews: PreviewPoint[];
  requests: RequestSample[];
  create: Record<string, CreateSample[]>;
  /** A fresh process's client set-up and first requests, in milliseconds, by latency. */
  clientSetup: Record<string, Record<string, Figure>>;
  upDestroy: { up: Record<string, Figure>; destroy: Record<string, Figure> };
  providerProcess: {
    /** Peak RSS of the dynamic provider's process during an `up` of 16 connections, MiB. */
    peakRssMiB: number;
    /** The same for 16 trivial dynamic resources: the baseline. */
    trivialPeakRssMiB: number;
    up16Seconds: number;
    state: ProviderInState;
    serializeFirstSeconds: number;
    serializeSeconds: Figure;
  };
  /** Memory of each environment with 16 clusters and 16 connections, by latency. */
  memory: Record<string, EnvironmentMemory>;
  /** Measurements that failed (the run went on without them), each with its reason. */
  failures: string[];
  /** The ratios and derived figures the table prints. */
  summary: Record<string, number>;
}
