import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * One JSON log stream (stderr) for the whole runner. Child loggers carry the
 * standard fields `input`, `collector` and `containerId` so a line can always
 * be traced to its source.
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino(
    { level, base: { service: 'pythond' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
