import type { OutputCheckContext } from '../../config/load.js';
import { reachesListen } from '../../schema/addresses.js';
import { duration, httpUrl, withDefault, type TableOf } from '../../schema/fields.js';
import { CATEGORIES, type Category, type EncodedBatch } from '../../points/point.js';
import { bufferSchema, type BufferOptions } from '../buffer/buffer-options.js';
import { HttpWriter, urlUnder } from '../http/http-writer.js';
import type { Output, OutputContext, OutputDetails } from '../output.js';

export const datakitOutputSchema = () => ({
  url: httpUrl('http://127.0.0.1:9529'),
  timeout: withDefault(duration(1), 10_000),
  ...bufferSchema(),
});

export type DatakitOptions = TableOf<ReturnType<typeof datakitOutputSchema>>;
/** The options the output itself reads; the buffer keys are BufferedOutput's. */
export type DatakitConnection = Omit<DatakitOptions, keyof BufferOptions>;

/** The header that marks a write this runner forwards (see `loopToken`); its own write API refuses one that comes back. */
export const FORWARDED_BY_HEADER = 'x-pythond-forwarded-by';

/** A datakit output aimed at the runner's own API would send every point back into itself, forever. */
export function checkDatakitOptions(options: DatakitOptions, runner: OutputCheckContext): { key: string; message: string }[] {
  if (!reachesListen(new URL(options.url), runner.listen)) return [];
  return [
    {
      key: 'url',
      message: `is this runner's own HTTP API (runner.listen = ${JSON.stringify(runner.listen)}): every point would be sent back into it, forever; point it at a DataKit`,
    },
  ];
}

/** Forwards each category to a DataKit's `/v1/write/<category>`, line protocol with ns timestamps, as collectors would post it themselves. */
export class DatakitOutput implements Output {
  readonly encoding = 'lineProtocol' as const;
  readonly #urls: ReadonlyMap<Category, URL>;
  readonly #http: HttpWriter;
  readonly #target: string;

  constructor(options: DatakitConnection, context: OutputContext) {
    this.#target = options.url;
    this.#urls = new Map(
      CATEGORIES.map((category) => {
        const url = urlUnder(options.url, `v1/write/${category}`);
        url.searchParams.set('precision', 'n');
        return [category, url];
      }),
    );
    this.#http = new HttpWriter({ baseUrl: options.url, timeoutMs: options.timeout, headers: { [FORWARDED_BY_HEADER]: context.loopToken } });
  }

  write(batch: EncodedBatch, signal?: AbortSignal): Promise<void> {
    return this.#http.post(this.#urls.get(batch.category)!, batch.lineProtocol!, signal);
  }

  details(): OutputDetails {
    return { target: this.#target };
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
