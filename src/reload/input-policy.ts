import type { Config, InputConfig } from '../config/load.js';

/** The input changes one application of a plan made (a reload, or a change of what a cluster member owns). */
export interface InputChanges {
  added: string[];
  removed: string[];
  /** Inputs now running a new version in new hosts. */
  restarted: string[];
  /** Inputs that took changed keys without a new host. */
  updated: string[];
  /** Inputs whose new version did not load: their old version keeps running. */
  failed: { input: string; error: string }[];
}

/**
 * Which inputs of a config run on this runner: all of them, unless it is a
 * member of a cluster, which runs the inputs it runs `each` and the shared
 * ones it holds (src/cluster/).
 */
export interface InputPolicy {
  /** The part of `config` that runs here. */
  effective(config: Config): Config;
  /** Whether `input` may start here now. */
  mayRun(input: InputConfig): boolean;
  /** How long a tick in flight of `input` may finish when it stops. */
  graceFor(input: InputConfig | undefined, graceMs: number): number;
  /** A config was loaded: the inputs it names are the ones to place. */
  configured(config: Config): void;
  /** The inputs now run what mayRun() allows. */
  settled(): void;
}

/** Without [cluster]: every input runs here. */
export const RUN_EVERY_INPUT: InputPolicy = {
  effective: (config) => config,
  mayRun: () => true,
  graceFor: (_input, graceMs) => graceMs,
  configured: () => {},
  settled: () => {},
};
