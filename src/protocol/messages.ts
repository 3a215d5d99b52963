import { isTable } from '../schema/table.js';

/**
 * The messages between the runner and the collector host, as
 * python.d/core/PROTOCOL.md defines them. Report messages are routed by their
 * first bytes and decoded in worker threads; the rest are small and parsed here.
 */

export const PROTOCOL_VERSION = 1;

export interface CollectorInfo {
  /** `<module>.<ClassName>`: unique within one input. */
  id: string;
  /** DataKit's collector name: its `name`, else its `__name` (older DataKit docs), else the class name (PROTOCOL.md). */
  name: string;
  /** Seconds between runs. */
  interval: number;
  /** The class's `interval` as Python writes it, when it is not a number > 0 (`interval` is then DataKit's 10). */
  bad_interval?: string;
  module: string;
  file: string;
}

export interface LoadError {
  module: string;
  file: string;
  /** The line of `file` the error points at, when there is one. */
  line?: number | null;
  error: string;
  traceback?: string;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  pid: number;
  python: string;
  collectors: CollectorInfo[];
  load_errors: LoadError[];
}

export interface LogMessage {
  type: 'log';
  id: string | null;
  collector: string | null;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LastErrorMessage {
  type: 'lasterror';
  id: string | null;
  collector: string | null;
  input: string;
  error: string;
}

/**
 * What a run's `done` measures (PROTOCOL.md): `run`, the run alone (its
 * thread's CPU time, the host's peak while it ran); `host`, the whole host
 * since it started (its container's cgroup, else its process's rusage).
 */
export type UsageScope = 'run' | 'host';

/** What a run cost, as its host measured it in the scope its request asked; a figure the host cannot measure is absent. */
export interface RunUsage {
  cpu_ms?: number;
  peak_bytes?: number;
}

const USAGE_FIGURES = ['cpu_ms', 'peak_bytes'] as const;

export interface DoneMessage {
  type: 'done';
  id: string;
  status: 'ok' | 'error';
  run_ms: number;
  error?: string;
  traceback?: string;
  /** Absent for a run the host refused (an unknown collector, one already running). */
  usage?: RunUsage;
}

export interface HostErrorMessage {
  type: 'error';
  error: string;
}

/** Host messages the main thread parses (everything but `report`). */
export type ControlMessage = HelloMessage | LogMessage | LastErrorMessage | DoneMessage | HostErrorMessage;

/**
 * The runner's first line to a host started with `--secrets`: the input's
 * secrets, put into os.environ before any collector is imported.
 */
export interface SecretsRequest {
  op: 'secrets';
  env: Record<string, string>;
}

export interface RunRequest {
  op: 'run';
  id: string;
  collector: string;
  usage: UsageScope;
}

/** Why a message is not what the protocol allows; the host is then restarted. */
export class ProtocolViolation extends Error {}

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new ProtocolViolation(what);
}

/** Validates a parsed control message; anything else is a protocol violation. */
export function asControlMessage(value: unknown): ControlMessage {
  check(isTable(value), 'a line on the protocol channel is not a JSON object');
  switch (value.type) {
    case 'hello':
      check(Array.isArray(value.collectors) && Array.isArray(value.load_errors), 'hello without collectors and load_errors lists');
      for (const c of value.collectors as unknown[]) {
        check(
          isTable(c) && typeof c.id === 'string' && typeof c.interval === 'number' && c.interval > 0,
          'hello lists a collector without id or positive interval',
        );
        check(c.bad_interval === undefined || typeof c.bad_interval === 'string', 'hello lists a bad_interval that is not a string');
      }
      for (const e of value.load_errors as unknown[]) {
        check(isTable(e) && (e.line === undefined || e.line === null || Number.isInteger(e.line)), 'hello lists a load error whose line is not a number');
      }
      return value as unknown as HelloMessage;
    case 'log':
      check(typeof value.text === 'string' && (value.stream === 'stdout' || value.stream === 'stderr'), 'log without text or stream');
      return value as unknown as LogMessage;
    case 'lasterror':
      check(typeof value.input === 'string' && typeof value.error === 'string', 'lasterror without input or error');
      return value as unknown as LastErrorMessage;
    case 'done':
      check(typeof value.id === 'string' && (value.status === 'ok' || value.status === 'error'), 'done without id or status');
      if (value.usage !== undefined) {
        const usage = value.usage;
        check(isTable(usage), 'done with a usage that is not an object');
        for (const figure of USAGE_FIGURES) {
          const number = usage[figure];
          check(
            number === undefined || (typeof number === 'number' && Number.isFinite(number) && number >= 0),
            `done with a usage.${figure} that is not a number >= 0`,
          );
        }
      }
      return value as unknown as DoneMessage;
    case 'error':
      return { type: 'error', error: String(value.error) };
    default:
      throw new ProtocolViolation(`unknown message type ${JSON.stringify(value.type)}`);
  }
}

const REPORT_PREFIX = Buffer.from('{"type":"report","id":"');
const REPORT_ID = /^\{"type":"report","id":"((?:[^"\\]|\\.){1,200})"/;

/** The run id of a report line, read from its first bytes; undefined when the line is not a report. */
export function reportRunId(line: Buffer): string | undefined {
  if (line.length < REPORT_PREFIX.length || line.compare(REPORT_PREFIX, 0, REPORT_PREFIX.length, 0, REPORT_PREFIX.length) !== 0) {
    return undefined;
  }
  const match = REPORT_ID.exec(line.toString('utf8', 0, Math.min(line.length, 256)));
  return match ? (JSON.parse(`"${match[1]}"`) as string) : undefined;
}
