/**
 * Why a collector host ended, as its runtime saw it: an exit code, a signal,
 * the kernel's OOM killer, or `lost` (the runtime cannot say: the engine
 * went away). Short and bounded: these are metric label values.
 */
export type HostExit = 'oom' | 'lost' | `exit ${number}` | `signal ${string}`;

/**
 * Why a run ended without its `done`, or a host had to go: how the host
 * ended, or what the runner stopped it for.
 */
export type FailureReason =
  | HostExit
  /** The tick ran past its timeout. */
  | 'timeout'
  /** The tick was still running when its collector's next tick was due, and its input has `overlap = "kill"`. */
  | 'overlap'
  /** The tick broke one of its per-tick bounds. */
  | 'max_points'
  | 'max_report_size'
  | 'max_stderr'
  /** The host wrote something the protocol does not allow. */
  | 'protocol'
  /** The host did not say hello in time (stuck importing its modules). */
  | 'start_timeout'
  /** The host could not be started at all. */
  | 'host_start'
  /** The host was killed because another run on it failed. */
  | 'host_restart'
  /** pythond is stopping. */
  | 'shutdown';

/** A run that ended without its `done`, or a host that went away, and why. */
export class HostFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'HostFailure';
  }
}
