import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { App } from '../../app.js';
import type { HttpEvents } from '../../telemetry/events/http-events.js';
import type { WriteApiResult } from '../../inputs/write-api-input.js';
import { FORWARDED_BY_HEADER } from '../../outputs/datakit/datakit-output.js';
import type { WriteFormat } from '../../points/tasks.js';
import { CATEGORIES, PRECISIONS, type Category, type Precision } from '../../points/point.js';
import { ApiError } from '../api-error.js';

/**
 * At most this many bodies are parsed or delivered at once; more are answered
 * 429. A slow output then pushes back on clients instead of bodies piling up
 * in memory (each can be max_body_size).
 */
export const MAX_WRITES_IN_FLIGHT = 32;

/** How long a client should wait before sending points again that an output could not store (a full disk, say). */
const NOT_STORED_RETRY_AFTER_S = 10;

/** Content types read as line protocol: DataKit reads every type but JSON as line protocol; these are the ones clients send. */
const LINE_PROTOCOL_TYPES = new Set(['', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded']);

type Query = Record<string, string | string[] | undefined>;

/** What one write request asks for, validated once at the door. */
interface WriteTarget {
  category: Category;
  precision: Precision;
  format: WriteFormat;
  /** The client's name for itself (`?input=`): for logs only, never a metric label. */
  input: string;
}

/**
 * POST /v1/write/:category: line protocol or JSON points, as DataKit takes
 * them. A body is accepted whole (200, empty body, once the outputs have the
 * points) or refused whole (400 saying what is wrong and where).
 */
export function writeRoutes(
  server: FastifyInstance,
  deps: { app: Pick<App, 'write' | 'loopToken'>; auth: onRequestHookHandler | undefined; events: HttpEvents },
): void {
  const { app, auth, events } = deps;
  let inFlight = 0;

  server.post<{ Params: { category: string }; Querystring: Query; Body: Buffer | undefined }>(
    '/v1/write/:category',
    { onRequest: auth },
    async (request, reply) => {
      if (request.headers[FORWARDED_BY_HEADER] === app.loopToken) {
        events.writeLooped(request.ip);
        throw new ApiError('loopDetected', "these points were forwarded by this runner's own datakit output: it is aimed at this API; point it at a DataKit");
      }
      const target = readTarget(request);
      const body = request.body;
      if (body === undefined || body.length === 0)
        throw new ApiError('emptyBody', 'the body is empty; send points as line protocol, or as JSON with Content-Type: application/json');
      if (inFlight >= MAX_WRITES_IN_FLIGHT) {
        reply.header('Retry-After', '1');
        throw new ApiError('reachMaxAPILimit', `${MAX_WRITES_IN_FLIGHT} writes are already in progress; retry shortly`);
      }

      inFlight++;
      let result: WriteApiResult;
      try {
        result = await app.write({ body, format: target.format, category: target.category, precision: target.precision });
      } finally {
        inFlight--;
      }
      if ('rejected' in result) {
        events.writeRejected(result.rejected, { category: target.category, client: target.input, remote: request.ip }, result.message);
        if (result.rejected === 'empty') throw new ApiError('noPoints', result.message);
        throw new ApiError(target.format === 'json' ? 'invalidJSONPoint' : 'invalidLinePoint', result.message);
      }
      if (result.unstored.length > 0) {
        // 2xx means every output keeps the points; otherwise the client must keep them and send them again.
        reply.header('Retry-After', String(NOT_STORED_RETRY_AFTER_S));
        const why = result.unstored.map(({ output, error }) => `${output}: ${error}`).join('; ');
        throw new ApiError(
          'notStored',
          `the points could not be stored by every output, send them again later (outputs that stored them may then hold them twice): ${why}`,
        );
      }
      reply.code(200).send();
    },
  );
}

function readTarget(request: FastifyRequest<{ Params: { category: string }; Querystring: Query }>): WriteTarget {
  const { category } = request.params;
  if (!CATEGORIES.includes(category as Category)) {
    throw new ApiError('invalidCategory', `invalid category ${JSON.stringify(category)}: pythond accepts ${CATEGORIES.join(', ')}`);
  }

  const precision = request.query.precision ?? 'n';
  if (typeof precision !== 'string' || !PRECISIONS.includes(precision as Precision)) {
    throw new ApiError('invalidPrecision', `precision must be one of ${PRECISIONS.join(', ')} (given once), got ${JSON.stringify(precision)}`);
  }

  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw new ApiError('unsupportedMediaType', `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body uncompressed`);
  }
  const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  let format: WriteFormat;
  if (mediaType === 'application/json') format = 'json';
  else if (LINE_PROTOCOL_TYPES.has(mediaType)) format = 'lineProtocol';
  else {
    throw new ApiError(
      'unsupportedMediaType',
      `Content-Type ${JSON.stringify(mediaType)} is not accepted: send line protocol (text/plain, or no Content-Type) or JSON (application/json)`,
    );
  }

  // ignore_global_tags, ignore_global_host_tags and version are accepted as DataKit takes them;
  // pythond adds no global tags to API points, so there is nothing for them to change.
  const input = typeof request.query.input === 'string' && request.query.input !== '' ? request.query.input.slice(0, 64) : 'datakit-http';
  return { category: category as Category, precision: precision as Precision, format, input };
}
