import type { Readable, Writable } from 'node:stream';
import type { HostFailure, RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';

/**
 * How a collector host was started: its pipes and how to get rid of it.
 * Launchers (a local process, a Docker container) produce these; everything
 * else about talking to a host is shared.
 */
export interface HostStreams {
  /** `pid 1234` or the container id: for logs and the status API. */
  id: string;
  stdin: Writable;
  /** The protocol channel (the host's stdout). */
  channel: Readable;
  stderr: Readable;
  /** Settles when the host is gone, with why: `exit 0`, `exit 139`, `oom`, `signal SIGKILL`. */
  exited: Promise<string>;
  /** Kills the host and everything it started; resolves once it is gone. */
  kill(): Promise<void>;
}

export interface HostLauncher {
  /** `process` or `docker`, for logs. */
  readonly kind: string;
  launch(): Promise<HostStreams>;
  /** Waits for what the launcher still does after its hosts are gone (e.g. removing containers). */
  close?(): Promise<void>;
}

/**
 * Runs the collectors of one `[[inputs.pythond]]` block. `warm` keeps one
 * host alive across ticks; `fresh` starts a host per tick.
 */
export interface Executor {
  /** Starts (or probes) a host and returns what it loaded. */
  start(): Promise<HelloMessage>;
  /** Runs one collector once; resolves with its `done`, rejects with a HostFailure. */
  run(runId: string, collectorId: string, sink: RunSink): Promise<DoneMessage>;
  /** Kills the host `runId` runs on: that run fails with `failure`. Used for timeouts and limits. */
  abort(runId: string, failure: HostFailure): Promise<void>;
  /** Milliseconds before the executor will start a host again after failures; 0 when it will now. */
  backoffRemaining(): number;
  /** The current host, for the status API. */
  readonly hostId: string | undefined;
  /** Lets runs in flight finish (or kills them after `graceMs`), then stops every host. */
  close(graceMs: number): Promise<void>;
}
