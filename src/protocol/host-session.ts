import type { Readable, Writable } from 'node:stream';
import { HostFailure } from './host-failure.js';
import { LineSplitter } from './line-splitter.js';
import {
  asControlMessage,
  PROTOCOL_VERSION,
  ProtocolViolation,
  reportRunId,
  type ControlMessage,
  type DoneMessage,
  type HelloMessage,
  type LastErrorMessage,
  type LogMessage,
  type RunRequest,
  type UsageScope,
} from './messages.js';

/** What a run in flight receives while it runs. */
export interface RunSink {
  /** A raw `report` line, for the point pipeline; a promise asks to read no more from the host until it settles. */
  report(line: Buffer): void | Promise<void>;
  log(message: LogMessage): void;
  /** Bytes the host wrote to its raw stderr while this run was in flight. */
  stderr(bytes: number): void;
}

interface PendingRun {
  sink: RunSink;
  resolve(done: DoneMessage): void;
  reject(err: HostFailure): void;
}

/** Control lines are small; only report lines may be as large as a tick's report budget. */
const MAX_CONTROL_LINE = 1024 * 1024;

/**
 * One conversation with one collector host over its stdin and protocol
 * channel. It matches messages to runs and notices protocol violations; it
 * does not own the host's process or container: `failed` tells the owner the
 * session is over (and why), and the owner gets rid of the host.
 */
export class HostSession {
  readonly hello: Promise<HelloMessage>;
  /** Settles once, when no run can use this session any more: the host broke the protocol, or fail() was called. */
  readonly failed: Promise<HostFailure>;
  /**
   * Settles once everything the host wrote has been read (its channel
   * ended), or the session failed: a host that exits by itself may leave
   * its last messages (a run's `done`) still to be read, behind points the
   * outputs are still taking.
   */
  readonly drained: Promise<void>;
  readonly #stdin: Writable;
  readonly #channel: Readable;
  /** Report waits not settled yet: the channel is paused while there is one. */
  #holds = 0;
  readonly #runs = new Map<string, PendingRun>();
  readonly #onStrayLog: (message: LogMessage) => void;
  readonly #onLastError: (message: LastErrorMessage) => void;
  #resolveHello!: (hello: HelloMessage) => void;
  #rejectHello!: (err: HostFailure) => void;
  #resolveFailed!: (failure: HostFailure) => void;
  #failure: HostFailure | undefined;
  #sawHello = false;

  constructor(options: {
    stdin: Writable;
    channel: Readable;
    /** Largest line accepted: the input's max_report_size. */
    maxLine: number;
    /** Log lines written outside any run (import time, stray threads). */
    onStrayLog(message: LogMessage): void;
    /** A collector called set_lasterror(). */
    onLastError(message: LastErrorMessage): void;
  }) {
    this.#stdin = options.stdin;
    this.#channel = options.channel;
    this.#onStrayLog = options.onStrayLog;
    this.#onLastError = options.onLastError;
    this.hello = new Promise((resolve, reject) => {
      this.#resolveHello = resolve;
      this.#rejectHello = reject;
    });
    this.hello.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    this.failed = new Promise((resolve) => (this.#resolveFailed = resolve));
    const ended = new Promise<void>((resolve) => {
      if (options.channel.readableEnded) resolve();
      for (const event of ['end', 'close', 'error']) options.channel.once(event, () => resolve());
    });
    this.drained = Promise.race([ended, this.failed.then(() => undefined)]);
    const splitter = new LineSplitter({
      maxLine: options.maxLine,
      onLine: (line) => this.#onLine(line),
      onOverflow: (head) => this.#onOverflow(head),
    });
    options.channel.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.#stdin.on('error', () => {}); // a host that died mid-write is reported by its exit, not by EPIPE
  }

  /** Sends one run request, its `done` to measure `usage`; resolves with its `done`, rejects with a HostFailure. */
  run(id: string, collector: string, sink: RunSink, usage: UsageScope = 'run'): Promise<DoneMessage> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#runs.set(id, { sink, resolve, reject });
      const request: RunRequest = { op: 'run', id, collector, usage };
      this.#stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Raw stderr bytes are charged to every run in flight (usually one). */
  chargeStderr(bytes: number): void {
    for (const run of this.#runs.values()) run.sink.stderr(bytes);
  }

  /**
   * Fails every run in flight (and a missing hello); later runs fail at once.
   * When one run caused it, that run gets `failure` and the others are told
   * their host went down because of it.
   */
  fail(failure: HostFailure, culpritId?: string): void {
    if (this.#failure) return;
    this.#failure = failure;
    if (!this.#sawHello) this.#rejectHello(failure);
    for (const [id, run] of this.#runs) {
      run.reject(
        culpritId === undefined || id === culpritId
          ? failure
          : new HostFailure('host_restart', `the collector host was restarted because another run failed: ${failure.message}`),
      );
    }
    this.#runs.clear();
    this.#resolveFailed(failure);
  }

  /** Asks the host to finish its runs and exit. */
  end(): void {
    this.#stdin.end();
  }

  /** Reads nothing more from the host until `wait` settles (and every other wait with it). */
  #holdUntil(wait: Promise<void>): void {
    if (this.#holds++ === 0) this.#channel.pause();
    void wait.finally(() => {
      if (--this.#holds === 0) this.#channel.resume();
    });
  }

  #violation(what: string): void {
    this.fail(new HostFailure('protocol', `the collector host broke the protocol: ${what}`));
  }

  #onOverflow(head: Buffer): void {
    const id = reportRunId(head);
    if (id === undefined || !this.#runs.has(id)) {
      this.#violation('wrote a line longer than max_report_size that is not a report of a run in flight');
      return;
    }
    this.fail(new HostFailure('max_report_size', 'reported one message larger than max_report_size'), id);
  }

  #onLine(line: Buffer): void {
    if (this.#failure) return;
    const reportId = reportRunId(line);
    if (reportId !== undefined) {
      const run = this.#runs.get(reportId);
      if (!run) {
        this.#violation(`report for run ${JSON.stringify(reportId)}, which is not in flight`);
        return;
      }
      const wait = run.sink.report(line);
      if (wait) this.#holdUntil(wait);
      return;
    }
    if (line.length > MAX_CONTROL_LINE) {
      this.#violation(`a ${line.length}-byte line that is not a report`);
      return;
    }

    let message: ControlMessage;
    try {
      message = asControlMessage(JSON.parse(line.toString('utf8')));
    } catch (err) {
      const what = err instanceof ProtocolViolation ? err.message : `a line that is not JSON: ${JSON.stringify(line.toString('utf8', 0, 80))}`;
      this.#violation(what);
      return;
    }

    switch (message.type) {
      case 'hello':
        if (this.#sawHello) {
          this.#violation('a second hello');
          return;
        }
        if (message.protocol !== PROTOCOL_VERSION) {
          this.#violation(
            `it speaks protocol version ${JSON.stringify(message.protocol)}, this runner ${PROTOCOL_VERSION}: its python.d/core is not this pythond's`,
          );
          return;
        }
        this.#sawHello = true;
        this.#resolveHello(message);
        return;
      case 'log': {
        const run = message.id === null ? undefined : this.#runs.get(message.id);
        if (run) run.sink.log(message);
        else this.#onStrayLog(message);
        return;
      }
      case 'lasterror':
        this.#onLastError(message);
        return;
      case 'done': {
        const run = this.#runs.get(message.id);
        if (!run) {
          this.#violation(`done for run ${JSON.stringify(message.id)}, which is not in flight`);
          return;
        }
        this.#runs.delete(message.id);
        run.resolve(message);
        return;
      }
      case 'error':
        this.#violation(`the host reported: ${message.error}`);
        return;
    }
  }
}
