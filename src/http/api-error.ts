/**
 * A refused request, answered in DataKit's error shape:
 * `{"error_code": "datakit.invalidLinePoint", "message": "..."}`.
 *
 * Codes for conditions DataKit also reports keep its spelling, so clients
 * written against DataKit read them the same; the rest are `pythond.*`.
 * Every code is listed in README.md beside this file.
 */
export const API_ERRORS = {
  invalidCategory: { status: 400, code: 'datakit.invalidCategory' },
  invalidPrecision: { status: 400, code: 'datakit.invalidPrecision' },
  emptyBody: { status: 400, code: 'datakit.emptyBody' },
  noPoints: { status: 400, code: 'datakit.noPoints' },
  invalidLinePoint: { status: 400, code: 'datakit.invalidLinePoint' },
  invalidJSONPoint: { status: 400, code: 'datakit.invalidJSONPoint' },
  invalidJSON: { status: 400, code: 'datakit.invalidJSON' },
  badRequest: { status: 400, code: 'pythond.badRequest' },
  undecodableBody: { status: 400, code: 'pythond.undecodableBody' },
  unauthorized: { status: 401, code: 'pythond.unauthorized' },
  notFound: { status: 404, code: 'pythond.notFound' },
  methodNotAllowed: { status: 405, code: 'pythond.methodNotAllowed' },
  bodyTooLarge: { status: 413, code: 'pythond.bodyTooLarge' },
  unsupportedMediaType: { status: 415, code: 'pythond.unsupportedMediaType' },
  reachMaxAPILimit: { status: 429, code: 'datakit.reachMaxAPILimit' },
  internal: { status: 500, code: 'pythond.internalError' },
  notStored: { status: 503, code: 'pythond.notStored' },
  loopDetected: { status: 508, code: 'pythond.loopDetected' },
} as const;

export type ApiErrorKind = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;

  constructor(kind: ApiErrorKind, message: string) {
    super(message);
    this.statusCode = API_ERRORS[kind].status;
    this.code = API_ERRORS[kind].code;
  }

  /** The response body. */
  toJSON(): { error_code: string; message: string } {
    return { error_code: this.code, message: this.message };
  }
}
