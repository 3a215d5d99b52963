import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** `pretty`: one readable line per event; `json`: one JSON object per line, for log shippers. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields shown after the level in pretty format, when a line has them. */
const PRETTY_FIELDS = ['input', 'collector', 'output', 'host', 'reason'] as const;

/**
 * `2026-11-26T05:53:51.795Z warn  input=demo: message`: the time, the level,
 * the fields that say where, the message; a traceback, when a line carries
 * one, follows indented.
 */
function prettyLine(line: string): string {
  const entry = JSON.parse(line) as Record<string, unknown>;
  const context = PRETTY_FIELDS.filter((key) => entry[key] !== undefined).map((key) => `${key}=${String(entry[key])}`);
  const level = (LEVEL_NAMES[entry.level as number] ?? 'log').padEnd(5);
  let text = `${String(entry.time)} ${level} ${context.length ? `${context.join(' ')}: ` : ''}${String(entry.msg ?? '')}\n`;
  if (typeof entry.traceback === 'string' && entry.traceback) text += `${entry.traceback.replace(/^/gm, '      ').trimEnd()}\n`;
  const err = entry.err as { stack?: string } | undefined;
  if (err?.stack) text += `${err.stack.replace(/^/gm, '      ')}\n`;
  return text;
}

/** The format when neither the config nor the command line says: pretty for a person at a terminal, JSON for everything else. */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'pretty' : 'json';
}

/**
 * The runner's log, on stderr, written synchronously (a line logged just
 * before the process exits is not lost). Every line has its time (ISO 8601,
 * UTC) and the `input`, `collector`, `host` fields where they apply.
 */
export function createLogger(level: LevelWithSilent = 'info', format: LogFormat = defaultLogFormat()): Logger {
  const timestamp = pino.stdTimeFunctions.isoTime;
  if (format === 'pretty') return pino({ level, base: undefined, timestamp }, { write: (line: string) => process.stderr.write(prettyLine(line)) });
  return pino({ level, base: { service: 'pythond' }, timestamp }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
