import type { InputEvents } from '../telemetry/events/input-events.js';
import { HostFailure, type FailureReason, type HostExit } from '../protocol/host-failure.js';
import { HostSession } from '../protocol/host-session.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import type { HelloMessage, LastErrorMessage, LogMessage } from '../protocol/messages.js';
import type { RuntimeHost } from '../runtimes/runtime.js';

/** Longest collector output line written to the log; the rest is cut. */
const MAX_LOG_LINE = 4096;
/**
 * Output outside runs that went past max_stderr is dropped until a run
 * starts, or this long: threads a service started write outside its run,
 * which never ends.
 */
const STRAY_REFILL_MS = 60_000;
/** A host that has not said hello by then is stuck importing its modules. */
export const HOST_START_TIMEOUT_MS = 60_000;

const truncate = (text: string): string =>
  text.length > MAX_LOG_LINE ? `${text.slice(0, MAX_LOG_LINE)}… (${text.length - MAX_LOG_LINE} more characters)` : text;

/** What an operator should read when a host ends by itself. */
function describeExit(host: string, exit: HostExit): string {
  if (exit === 'oom') return `collector host ${host} ran out of memory and was killed (the input's memory limit)`;
  if (exit === 'exit 139' || exit === 'signal SIGSEGV') return `collector host ${host} crashed with a segmentation fault (${exit})`;
  if (exit === 'lost') return `lost track of collector host ${host} (the runtime cannot say what became of it)`;
  if (exit.startsWith('exit '))
    return `collector host ${host} exited with code ${exit.slice('exit '.length)} (os._exit() in a collector, or the interpreter died)`;
  return `collector host ${host} ended (${exit})`;
}

/** What every host connection is given. */
export interface ConnectionOptions {
  /** The input's max_report_size: the longest protocol line accepted. */
  maxLine: number;
  /** The input's max_stderr: output logged between runs. */
  maxStray: number;
  /** Where output outside runs goes, and the notice that it is dropped. */
  events: Pick<InputEvents, 'strayOutput' | 'strayOutputDropped'>;
  /** A collector called set_lasterror(). */
  onLastError(message: LastErrorMessage): void;
}

/**
 * A started host wired up: its protocol session, its raw stderr going to
 * the log, its exit failing whatever was in flight, and a host that broke
 * the protocol killed.
 */
export class HostConnection {
  readonly session: HostSession;
  readonly id: string;
  /** The image the host runs in (docker). */
  readonly image: string | undefined;
  /** Settles once the host can serve no more runs (it broke the protocol, was killed, or ended), with why. */
  readonly failed: Promise<HostFailure>;
  /** Settles once the host has stopped, with why: the reason it was killed for, or how it ended. */
  readonly gone: Promise<FailureReason>;
  readonly #host: RuntimeHost;
  readonly #paths: readonly (readonly [string, string])[];
  readonly #events: ConnectionOptions['events'];
  #killing: Promise<void> | undefined;
  #hello: Promise<HelloMessage> | undefined;
  #stopped = false;
  /** Why we killed the host, when we did: what `gone` reports instead of the signal. */
  #killedFor: FailureReason | undefined;
  /** Bytes of output written outside any run that may still be logged before the next run starts. */
  #strayBudget: number;
  /** When an exhausted stray budget fills again by itself (Date.now(): a log budget needs no monotonic clock). */
  #strayRefillAt = 0;
  readonly #maxStray: number;

  constructor(host: RuntimeHost, options: ConnectionOptions) {
    this.#host = host;
    this.#paths = (host.paths ?? []).map(([there, here]) => [`${there}/`, `${here}/`] as const);
    this.id = host.id;
    this.image = host.image;
    this.#events = options.events;
    this.#maxStray = options.maxStray;
    this.#strayBudget = options.maxStray;
    this.session = new HostSession({
      stdin: host.stdin,
      channel: host.channel,
      maxLine: options.maxLine,
      onLastError: options.onLastError,
      onStrayLog: (message) => this.#logStray(message.text, message),
    });
    this.failed = this.session.failed;
    // A host still up that broke the protocol serves no more runs: it goes.
    void this.failed.then((failure) => {
      if (!this.#stopped) void this.kill(failure);
    });

    const stderrLines = new LineSplitter({
      maxLine: MAX_LOG_LINE,
      onLine: (line) => this.#logStray(line.toString('utf8')),
      onOverflow: (head) => this.#logStray(`${head.toString('utf8')}… (line cut)`),
    });
    host.stderr.on('data', (chunk: Buffer) => {
      this.session.chargeStderr(chunk.length);
      stderrLines.push(chunk);
    });

    this.gone = host.exited.then(async (exit) => {
      this.#stopped = true;
      // What it wrote before it exited is read first: a fresh host's run is done, and says so, just before it exits.
      await this.session.drained;
      this.session.fail(new HostFailure(exit, describeExit(this.id, exit)));
      return this.#killedFor ?? exit;
    });
  }

  /** A run is starting: output between runs may be logged again. */
  runStarting(): void {
    this.#strayBudget = this.#maxStray;
  }

  /** `text` (a traceback, a line a collector printed) with the host's paths of the user's files as this machine knows them. */
  localize(text: string): string {
    let local = text;
    for (const [there, here] of this.#paths) local = local.replaceAll(there, here);
    return local;
  }

  /** Waits for hello (once: later calls get the same answer), failing the host if it does not come in time; its load errors name this machine's paths. */
  hello(timeoutMs = HOST_START_TIMEOUT_MS): Promise<HelloMessage> {
    this.#hello ??= this.#awaitHello(timeoutMs);
    return this.#hello;
  }

  async #awaitHello(timeoutMs: number): Promise<HelloMessage> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HostFailure('start_timeout', `collector host ${this.id} did not load its collectors within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    try {
      const hello = await Promise.race([this.session.hello, timeout]);
      const loadErrors = hello.load_errors.map((e) => ({ ...e, error: this.localize(e.error), traceback: e.traceback && this.localize(e.traceback) }));
      return { ...hello, load_errors: loadErrors };
    } catch (err) {
      await this.kill(err as HostFailure);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails what is in flight with `failure` (the run `culpritRunId` caused it) and kills the host. */
  kill(failure: HostFailure, culpritRunId?: string): Promise<void> {
    this.#killedFor ??= failure.reason;
    this.session.fail(failure, culpritRunId);
    this.#killing ??= this.#host
      .kill()
      .then(() => this.gone)
      .then(() => undefined);
    return this.#killing;
  }

  /** Asks the host to finish its runs and exit; kills it after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.session.end();
    const timer = setTimeout(() => void this.kill(new HostFailure('shutdown', `did not finish within ${graceMs} ms of shutdown`)), graceMs);
    await this.gone;
    clearTimeout(timer);
  }

  #logStray(text: string, message?: LogMessage): void {
    if (this.#strayBudget <= 0) {
      if (Date.now() < this.#strayRefillAt) return;
      this.#strayBudget = this.#maxStray;
    }
    this.#strayBudget -= text.length;
    this.#events.strayOutput(message?.collector, message?.stream ?? 'stderr', truncate(this.localize(text)));
    if (this.#strayBudget <= 0) {
      this.#strayRefillAt = Date.now() + STRAY_REFILL_MS;
      this.#events.strayOutputDropped(this.id);
    }
  }
}

/** Starts a host and waits for its hello; a host that does not say it in time is killed. */
export async function openConnection(launch: () => Promise<RuntimeHost>, options: ConnectionOptions): Promise<HostConnection> {
  const connection = new HostConnection(await launch(), options);
  await connection.hello();
  return connection;
}
