import { readFileSync } from 'node:fs';
import type { EncodedBatch } from '../../points/point.js';
import { duration, endpointUrl, nonEmptyString, optional, readableFile, string, stringMap, withDefault, type TableOf } from '../../schema/fields.js';
import { VERSION } from '../../version.js';
import { joinSnappyBlocks } from '../../../workers/snappy.js';
import { bufferSchema, type BufferOptions } from '../buffer/buffer-options.js';
import { authorization, checkCredentials } from '../http/credentials.js';
import { HttpWriter } from '../http/http-writer.js';
import type { Output, OutputDetails } from '../output.js';

export const remoteWriteOutputSchema = (baseDir: string) => ({
  url: endpointUrl('http://127.0.0.1:9090/api/v1/write'),
  username: optional(nonEmptyString('a user name')),
  password: optional(string()),
  bearer_token: optional(nonEmptyString('a token')),
  /** Extra request headers, such as a tenant's (X-Scope-OrgID for Mimir and Cortex). */
  headers: withDefault(stringMap(), {}),
  tls_ca: optional(readableFile(baseDir)),
  timeout: withDefault(duration(1), 30_000),
  ...bufferSchema(),
});

export type RemoteWriteOptions = TableOf<ReturnType<typeof remoteWriteOutputSchema>>;
/** The options the output itself reads; the buffer keys are BufferedOutput's. */
export type RemoteWriteConnection = Omit<RemoteWriteOptions, keyof BufferOptions>;

/** The headers remote write 1.0 requires; `headers` may not change them. */
const PROTOCOL_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': `pythond/${VERSION}`,
};

const credentialsOf = (options: RemoteWriteConnection) => ({ username: options.username, password: options.password, token: options.bearer_token });

/** The rules between keys: one kind of credentials, and headers that leave the protocol's and the credentials' alone. */
export function checkRemoteWriteOptions(options: RemoteWriteOptions): { key: string; message: string }[] {
  const problems = checkCredentials(credentialsOf(options), 'bearer_token');
  for (const name of Object.keys(options.headers)) {
    const lower = name.toLowerCase();
    if (Object.hasOwn(PROTOCOL_HEADERS, lower))
      problems.push({ key: `headers.${name}`, message: `is set by remote write itself (${PROTOCOL_HEADERS[lower as keyof typeof PROTOCOL_HEADERS]})` });
    if (lower === 'authorization' && (options.username !== undefined || options.bearer_token !== undefined)) {
      problems.push({ key: `headers.${name}`, message: 'cannot be combined with username/password or bearer_token; keep one of them' });
    }
  }
  return problems;
}

/**
 * Prometheus remote write 1.0: each request a snappy-compressed protobuf
 * WriteRequest (encoded and compressed by the workers), POSTed to `url` (a
 * Prometheus with --web.enable-remote-write-receiver, VictoriaMetrics, Mimir,
 * Thanos, Cortex at their write path). As the spec asks, 5xx and 429 are
 * retried and any other 4xx drops the batch.
 */
export class RemoteWriteOutput implements Output {
  readonly encoding = 'remoteWrite' as const;
  readonly #url: URL;
  readonly #http: HttpWriter;

  constructor(options: RemoteWriteConnection) {
    this.#url = new URL(options.url);
    this.#http = new HttpWriter({
      baseUrl: options.url,
      timeoutMs: options.timeout,
      ca: options.tls_ca === undefined ? undefined : readFileSync(options.tls_ca),
      headers: { ...options.headers, ...authorization(credentialsOf(options), 'Bearer'), ...PROTOCOL_HEADERS },
      retriedClientErrors: new Set([429]),
    });
  }

  write(batch: EncodedBatch, signal?: AbortSignal): Promise<void> {
    return this.#http.post(this.#url, batch.remoteWrite!, signal);
  }

  /** Buffered batches are snappy blocks of WriteRequests: joined, they are one block of one WriteRequest with every series. */
  join(payloads: Uint8Array[]): Uint8Array {
    return joinSnappyBlocks(payloads);
  }

  details(): OutputDetails {
    return { target: this.#url.href };
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
