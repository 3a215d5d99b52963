import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields shown after the message in console format, when a line has them. */
const CONSOLE_FIELDS = ['input', 'collector', 'output', 'host', 'reason'] as const;

/**
 * Human-readable lines (`warn  input=demo: message`) for terminals and the
 * CLI; a traceback, when a line carries one, follows indented.
 */
const consoleStream = {
  write(line: string): void {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const context = CONSOLE_FIELDS.filter((key) => entry[key] !== undefined).map((key) => `${key}=${String(entry[key])}`);
    let text = `${(LEVEL_NAMES[entry.level as number] ?? 'log').padEnd(5)} ${context.length ? `${context.join(' ')}: ` : ''}${String(entry.msg ?? '')}\n`;
    if (typeof entry.traceback === 'string') text += `${entry.traceback.replace(/^/gm, '      ').trimEnd()}\n`;
    const err = entry.err as { stack?: string } | undefined;
    if (err?.stack) text += `${err.stack.replace(/^/gm, '      ')}\n`;
    process.stderr.write(text);
  },
};

/**
 * The runner's log, on stderr: JSON lines (one object per event, with
 * `input`, `collector`, `host` fields) unless `format` is `console`.
 */
export function createLogger(level: LevelWithSilent = 'info', format: 'json' | 'console' = process.stderr.isTTY ? 'console' : 'json'): Logger {
  const options = { level, base: { service: 'pythond' }, timestamp: pino.stdTimeFunctions.isoTime };
  return format === 'console' ? pino({ ...options, base: undefined, timestamp: false }, consoleStream) : pino(options, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
