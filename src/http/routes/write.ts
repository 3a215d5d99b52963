import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { App } from '../../app.js';
import type { HttpEvents } from '../../telemetry/events/http-events.js';
import type { WriteApiResult } from '../../inputs/write-api-input.js';
import { FORWARDED_BY_HEADER } from '../../outputs/datakit/datakit-output.js';
import { BODY_ENCODINGS, type BodyEncoding } from '../../points/body-encoding.js';
import type { EchoFormat, WriteFormat, WriteRejection } from '../../points/tasks.js';
import { CATEGORIES, PRECISIONS, type Category, type Precision } from '../../points/point.js';
import { ApiError, type ApiErrorKind } from '../api-error.js';

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

const ECHO_FORMATS: readonly EchoFormat[] = ['lp', 'json'];
const ECHO_TYPES: Record<EchoFormat, string> = { lp: 'text/plain; charset=utf-8', json: 'application/json' };

/** What one write request asks for, validated once at the door. */
interface WriteTarget {
  category: Category;
  precision: Precision;
  format: WriteFormat;
  /** The client's name for itself (`?input=`): for logs only, never a metric label. */
  input: string;
  compression?: BodyEncoding;
  /** DataKit's parameters as DataKit reads them: ignore_global_host_tags, global_election_tags, dry. */
  ignoreHostTags: boolean;
  electionTags: boolean;
  dry: boolean;
  echo?: EchoFormat;
}

/**
 * POST /v1/write/:category: line protocol or JSON points, as DataKit takes
 * them, compressed or not. A body is accepted whole (200, empty body or the
 * points echoed, once the outputs have them) or refused whole (4xx saying
 * what is wrong and where).
 */
export function writeRoutes(
  server: FastifyInstance,
  deps: { app: Pick<App, 'write' | 'loopToken' | 'config'>; auth: onRequestHookHandler | undefined; events: HttpEvents; maxBodySize: number },
): void {
  const { app, auth, events, maxBodySize } = deps;
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

      // The config in effect now: a reload changes the global tags of the next write.
      const { host, election } = app.config.globalTags;
      // As DataKit's feeder: points said to be the elected member's get the election tags instead of this machine's.
      const tags = target.electionTags ? election : target.ignoreHostTags ? {} : host;
      const { category, precision, format, compression, echo } = target;
      inFlight++;
      let result: WriteApiResult;
      try {
        result = await app.write({ body, format, category, precision, compression, maxBodySize, tags, echo }, { dry: target.dry });
      } finally {
        inFlight--;
      }
      if ('rejected' in result) {
        events.writeRejected(result.rejected, { category, client: target.input, remote: request.ip }, result.message);
        throw new ApiError(REJECTIONS[result.rejected] ?? (format === 'json' ? 'invalidJSONPoint' : 'invalidLinePoint'), result.message);
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
      if (result.echo)
        reply
          .code(200)
          .type(ECHO_TYPES[echo!])
          .send(Buffer.from(result.echo.buffer, result.echo.byteOffset, result.echo.byteLength));
      else reply.code(200).send();
    },
  );
}

/** Refusals with an answer of their own; the others are bad points, answered in the body's format. */
const REJECTIONS: Partial<Record<WriteRejection['rejected'], ApiErrorKind>> = { empty: 'noPoints', tooLarge: 'bodyTooLarge', undecodable: 'undecodableBody' };

/** A DataKit switch: on when given with any value but an empty one (DataKit reads `ignore_global_host_tags=false` as on too). */
function isOn(query: Query, name: string): boolean {
  const value = query[name];
  return (Array.isArray(value) ? value : [value]).some((item) => item !== undefined && item !== '');
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

  const compression = readCompression(request.headers['content-encoding'], request.query.encoding);
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

  // echo_line_proto and echo_json are DataKit's older switches for echo=lp and echo=json.
  const echo = request.query.echo ?? (isOn(request.query, 'echo_line_proto') ? 'lp' : isOn(request.query, 'echo_json') ? 'json' : undefined);
  if (echo !== undefined && !ECHO_FORMATS.includes(echo as EchoFormat)) {
    throw new ApiError('badRequest', `echo must be lp (line protocol) or json (the points as stored), given once, got ${JSON.stringify(echo)}`);
  }

  // ignore_global_tags is DataKit's older name of ignore_global_host_tags; version is accepted, not used.
  const query = request.query;
  const input = typeof query.input === 'string' && query.input !== '' ? query.input.slice(0, 64) : 'datakit-http';
  return {
    category: category as Category,
    precision: precision as Precision,
    format,
    input,
    compression,
    ignoreHostTags: isOn(query, 'ignore_global_host_tags') || isOn(query, 'ignore_global_tags'),
    electionTags: isOn(query, 'global_election_tags'),
    dry: isOn(query, 'dry'),
    echo: echo as EchoFormat | undefined,
  };
}

/**
 * How the body is compressed: its Content-Encoding, or DataKit's `encoding`
 * parameter (either alone, or both saying the same). One this Node cannot
 * inflate is 415.
 */
function readCompression(header: string | undefined, parameter: Query[string]): BodyEncoding | undefined {
  if (Array.isArray(parameter)) throw new ApiError('badRequest', `encoding must be given once, got ${JSON.stringify(parameter)}`);
  const named = (value: string | undefined): string | undefined => {
    const name = value?.trim().toLowerCase();
    return name === '' || name === 'identity' ? undefined : name === 'x-gzip' ? 'gzip' : name;
  };
  const fromHeader = named(header);
  const fromParameter = named(parameter);
  if (fromHeader && fromParameter && fromHeader !== fromParameter) {
    throw new ApiError('unsupportedMediaType', `Content-Encoding ${JSON.stringify(header)} and ?encoding=${parameter} disagree; give one of them`);
  }
  const compression = fromHeader ?? fromParameter;
  if (compression === undefined || BODY_ENCODINGS.includes(compression as BodyEncoding)) return compression as BodyEncoding | undefined;
  const zstd = compression === 'zstd' ? ' (zstd needs Node.js 22.15 or later)' : '';
  throw new ApiError(
    'unsupportedMediaType',
    `${fromHeader ? 'Content-Encoding' : 'encoding'} ${JSON.stringify(compression)} is not supported${zstd}; send the body uncompressed or as ${BODY_ENCODINGS.join(', ')}`,
  );
}
