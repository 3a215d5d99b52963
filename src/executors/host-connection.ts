import type { Logger } from '../logger.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { HostFailure, HostSession } from '../protocol/host-session.js';
import type { LastErrorMessage, LogMessage } from '../protocol/messages.js';
import type { HostLauncher, HostStreams } from './executor.js';

/** Longest collector output line written to the log; the rest is cut. */
const MAX_LOG_LINE = 4096;
/** A host that has not said hello by then is stuck importing its modules. */
export const HOST_START_TIMEOUT_MS = 60_000;

const truncate = (text: string): string => (text.length > MAX_LOG_LINE ? `${text.slice(0, MAX_LOG_LINE)}… (${text.length - MAX_LOG_LINE} more characters)` : text);

/** What an operator should read when a host ends by itself. */
function describeExit(host: string, exit: string): string {
  if (exit === 'oom') return `collector host ${host} ran out of memory and was killed (the input's memory limit)`;
  if (exit === 'exit 139' || exit === 'signal SIGSEGV') return `collector host ${host} crashed with a segmentation fault (${exit})`;
  if (exit.startsWith('exit ')) return `collector host ${host} exited with code ${exit.slice('exit '.length)} (os._exit() in a collector, or the interpreter died)`;
  return `collector host ${host} ended (${exit})`;
}

/**
 * A started host wired up: its protocol session, its raw stderr going to
 * the log, and its exit failing whatever was in flight.
 */
export class HostConnection {
  readonly session: HostSession;
  readonly id: string;
  /** Settles with why the host is gone: the reason it was killed for, or how it exited. */
  readonly gone: Promise<string>;
  readonly #streams: HostStreams;
  readonly #log: Logger;
  #killing: Promise<void> | undefined;
  /** Why we killed the host, when we did: what `gone` reports instead of the signal. */
  #killedFor: string | undefined;
  /** Bytes of output written outside any run that may still be logged before the next run starts. */
  #strayBudget: number;
  readonly #maxStray: number;

  constructor(
    streams: HostStreams,
    options: {
      maxLine: number;
      maxStray: number;
      log: Logger;
      onBroken(failure: HostFailure): void;
      onFailed?(failure: HostFailure): void;
      onLastError(message: LastErrorMessage): void;
    },
  ) {
    this.#streams = streams;
    this.id = streams.id;
    this.#log = options.log;
    this.#maxStray = options.maxStray;
    this.#strayBudget = options.maxStray;
    this.session = new HostSession({
      stdin: streams.stdin,
      channel: streams.channel,
      maxLine: options.maxLine,
      onBroken: options.onBroken,
      onFailed: options.onFailed,
      onLastError: options.onLastError,
      onStrayLog: (message) => this.#logStray(message.text, message),
    });

    const stderrLines = new LineSplitter({
      maxLine: MAX_LOG_LINE,
      onLine: (line) => this.#logStray(line.toString('utf8')),
      onOverflow: (head) => this.#logStray(`${head.toString('utf8')}… (line cut)`),
    });
    streams.stderr.on('data', (chunk: Buffer) => {
      this.session.chargeStderr(chunk.length);
      stderrLines.push(chunk);
    });

    this.gone = streams.exited.then((exit) => {
      this.session.fail(new HostFailure(exit, describeExit(this.id, exit)));
      return this.#killedFor ?? exit;
    });
  }

  /** A run is starting: output between runs may be logged again. */
  runStarting(): void {
    this.#strayBudget = this.#maxStray;
  }

  /** Waits for hello, failing the host if it does not come in time. */
  async hello(timeoutMs = HOST_START_TIMEOUT_MS) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HostFailure('start_timeout', `collector host ${this.id} did not load its collectors within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      return await Promise.race([this.session.hello, timeout]);
    } catch (err) {
      await this.kill(err as HostFailure);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails what is in flight with `failure` and kills the host. */
  kill(failure: HostFailure, culpritRunId?: string): Promise<void> {
    this.session.fail(failure, culpritRunId);
    this.#killedFor ??= failure.reason;
    this.#killing ??= this.#streams.kill().then(() => this.gone).then(() => undefined);
    return this.#killing;
  }

  #logStray(text: string, message?: LogMessage): void {
    if (this.#strayBudget <= 0) return;
    this.#strayBudget -= text.length;
    const fields = message?.collector ? { collector: message.collector, stream: message.stream } : { stream: message?.stream ?? 'stderr' };
    this.#log.warn(fields, truncate(text));
    if (this.#strayBudget <= 0) this.#log.warn(`collector host ${this.id}: more output outside runs is dropped until the next run starts (max_stderr)`);
  }
}

/** What both executors give every host they start. */
export interface ConnectionOptions {
  /** The input's max_report_size: the longest protocol line accepted. */
  maxLine: number;
  /** The input's max_stderr: output logged between runs. */
  maxStray: number;
  log: Logger;
  /** A collector called set_lasterror(). */
  onLastError(message: LastErrorMessage): void;
}

/** Launches a host and waits for its hello; a host that breaks the protocol is killed. */
export async function openConnection(
  launcher: HostLauncher,
  options: ConnectionOptions & { onFailed?(connection: HostConnection, failure: HostFailure): void },
): Promise<HostConnection> {
  const streams = await launcher.launch();
  const connection: HostConnection = new HostConnection(streams, {
    ...options,
    onBroken: (failure) => void connection.kill(failure),
    onFailed: options.onFailed && ((failure) => options.onFailed!(connection, failure)),
  });
  await connection.hello();
  return connection;
}

/** Asks a host to finish its runs and exit; kills it after `graceMs`. */
export async function closeConnection(connection: HostConnection, graceMs: number): Promise<void> {
  connection.session.end();
  const timer = setTimeout(() => void connection.kill(new HostFailure('shutdown', `did not finish within ${graceMs} ms of shutdown`)), graceMs);
  await connection.gone;
  clearTimeout(timer);
}
