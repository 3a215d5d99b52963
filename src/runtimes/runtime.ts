import type { Readable, Writable } from 'node:stream';
import type { Config, InputConfig } from '../config/load.js';
import type { Logger } from '../telemetry/logger.js';
import type { HostExit } from '../protocol/host-failure.js';
import type { Metrics } from '../telemetry/metrics.js';

/**
 * Where collector hosts run: Docker containers, local processes; later
 * remote engines or Kubernetes pods. A runtime only starts hosts and ends
 * them; how long a host lives (warm, fresh) and what is said to it (the
 * protocol) are the same over every runtime (src/hosts).
 */
export interface Runtime {
  /** `docker`, `process`: its name in `[runner] executor`, in logs and in the status API. */
  readonly kind: string;
  /**
   * Gets ready what the input's hosts run in before they start: its image,
   * pulled as its `pull` says (docker), and what its dependencies (`apt`,
   * requirements.txt) need: an image built FROM that one (docker), a virtual
   * environment (process). One built earlier from the same things is
   * reused; otherwise it is built now, telling `listener`, and the input's
   * older ones are removed (the last two are kept). Done once per version
   * of the input's config. Resolves with what start() then runs the input's
   * hosts in, or undefined when that is nothing of its own (the process
   * executor's python3); rejects with a BuildError saying what failed to
   * build, or a PythondError saying why the image is not there. Aborting
   * `signal` abandons the pull or the build.
   */
  prepare(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<Prepared | undefined>;
  /**
   * The id of the image `input` runs in or is built from (docker), pulled as
   * its `pull` says, once per version of its config: the one prepare() then
   * uses. A reload asks it of an input with `pull = "always"` and compares
   * it with the running version's (`Prepared.base`). Absent for a runtime
   * without images.
   */
  baseImage?(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<string>;
  /**
   * Starts a collector host for `input`, with the input's limits, its code
   * and this runner's labels, and attaches its stdio. Rejects (with nothing
   * left behind) when the host cannot start.
   */
  start(input: InputConfig): Promise<RuntimeHost>;
  /** Removes every host this runner instance started, found by its labels, tracked or not. */
  removeAll(): Promise<void>;
}

/** What Runtime.prepare tells while it pulls or builds. */
export interface BuildListener {
  /** The image is being pulled from its registry (the puller logs its progress). */
  pulling(image: string): void;
  /** Nothing built earlier fits: a build of `name` begins. */
  building(name: string): void;
  /** One line of the build's output. */
  output(line: string): void;
}

/** What an input's hosts run in once its dependencies are installed. */
export interface Prepared {
  /** The image tag (docker) or the virtual environment's folder (process). */
  name: string;
  /** False when one built earlier from the same things was reused, or nothing was built. */
  built: boolean;
  /** The id of the image it is or was built from (docker). */
  base?: string;
}

/** For a prepare() whose pulls and builds nobody watches (one done already, which returns at once). */
export const UNHEARD: BuildListener = { pulling() {}, building() {}, output() {} };

/** A started collector host: its stdio, how it ended, and a way to end it. */
export interface RuntimeHost {
  /** `pid 1234` or the short container id: for logs and the status API. */
  readonly id: string;
  /** The image it runs in, when it runs in one (docker): for the status API. */
  readonly image?: string;
  readonly stdin: Writable;
  /** The protocol channel (the host's stdout). */
  readonly channel: Readable;
  readonly stderr: Readable;
  /** Settles once the host has stopped, with why (removing what is left of it may go on: removeAll waits for that). */
  readonly exited: Promise<HostExit>;
  /** Kills the host and everything it started; resolves once it is gone. */
  kill(): Promise<void>;
  /**
   * Folders the host sees under other paths than this machine does (a
   * container's unpacked code bundle), as `[path in the host, path here]`,
   * so that tracebacks name the user's files. Absent when they are the same.
   */
  readonly paths?: readonly (readonly [string, string])[];
}

/** What opening a runtime may use. */
export interface RuntimeContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
}

/** One runtime's entry in the registry (registry.ts). */
export interface RuntimePlugin {
  /** Whether hosts are isolated from this machine and from each other; `auto` says loudly when it falls back to one that is not. */
  readonly isolated: boolean;
  /** Gets the runtime ready for `context.config`'s inputs; rejects with a PythondError saying why it cannot run them here. */
  open(context: RuntimeContext): Promise<Runtime>;
}
