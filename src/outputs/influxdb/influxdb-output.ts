import { readFileSync } from 'node:fs';
import { duration, httpUrl, nonEmptyString, optional, readableFile, string, withDefault, type TableOf } from '../../schema/fields.js';
import type { EncodedBatch } from '../../points/point.js';
import { bufferSchema, type BufferOptions } from '../buffer/buffer-options.js';
import { authorization, checkCredentials } from '../http/credentials.js';
import { HttpWriter, urlUnder } from '../http/http-writer.js';
import type { Output, OutputDetails } from '../output.js';

export const influxdbOutputSchema = (baseDir: string) => ({
  url: httpUrl('http://127.0.0.1:8086'),
  database: nonEmptyString('a database name'),
  username: optional(nonEmptyString('a user name')),
  password: optional(string()),
  token: optional(nonEmptyString('a token')),
  tls_ca: optional(readableFile(baseDir)),
  timeout: withDefault(duration(1), 10_000),
  ...bufferSchema(),
});

export type InfluxdbOptions = TableOf<ReturnType<typeof influxdbOutputSchema>>;
/** The options the output itself reads; the buffer keys are BufferedOutput's. */
export type InfluxdbConnection = Omit<InfluxdbOptions, keyof BufferOptions>;

/** The rules between keys that the schema cannot say. */
export function checkInfluxdbOptions(options: InfluxdbOptions): { key: string; message: string }[] {
  return checkCredentials(options, 'token');
}

/**
 * Line protocol to an InfluxDB 1.x-compatible `/write` endpoint (InfluxDB
 * 1.x, VictoriaMetrics, InfluxDB 2.x/3 v1 API). Every category goes to the
 * one database, measurement names unchanged: the category is not a tag.
 */
export class InfluxdbOutput implements Output {
  readonly encoding = 'lineProtocol' as const;
  readonly #writeUrl: URL;
  readonly #http: HttpWriter;

  constructor(options: InfluxdbConnection) {
    this.#writeUrl = urlUnder(options.url, 'write');
    this.#writeUrl.searchParams.set('db', options.database);
    this.#writeUrl.searchParams.set('precision', 'ns');
    this.#http = new HttpWriter({
      baseUrl: options.url,
      timeoutMs: options.timeout,
      ca: options.tls_ca === undefined ? undefined : readFileSync(options.tls_ca),
      headers: authorization(options, 'Token'),
    });
  }

  write(batch: EncodedBatch, signal?: AbortSignal): Promise<void> {
    return this.#http.post(this.#writeUrl, batch.lineProtocol!, signal);
  }

  details(): OutputDetails {
    return { target: this.#writeUrl.href };
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
