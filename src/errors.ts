/**
 * Every error pythond raises on purpose carries a stable `code`, so callers
 * (and tests) branch on the code, not on message text. Messages are written
 * for the operator: what is wrong, where, and what was expected. Each code
 * is described in docs/errors.md (a test keeps the two in step).
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'DATA_DIR_UNWRITABLE',
  'HOST_START_FAILED',
  'DOCKER_UNAVAILABLE',
  'IMAGE_MISSING',
  'IMAGE_PULL_FAILED',
  'BUILD_FAILED',
  'OUTPUT_FAILED',
  'OUTPUT_REJECTED',
  'BUFFER_CORRUPT',
  'HTTP_LISTEN_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class PythondError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PythondError';
    this.code = code;
  }
}

export function isPythondError(err: unknown, code?: ErrorCode): err is PythondError {
  return err instanceof PythondError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs and status fields. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
