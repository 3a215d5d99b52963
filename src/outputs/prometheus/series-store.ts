/** The text a scrape is written in, by what the scraper's Accept header asks for. */
export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

interface Entry {
  /** The family's map, to leave it when the series goes. */
  family: Map<string, Entry>;
  familyName: string;
  /** As the workers wrote it. */
  value: string;
  /** The sample's own time, ms since the epoch. */
  ms: number;
  /** When the series was last reported (the store's clock, ms). */
  seenAt: number;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** Text is written out in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/** ms → OpenMetrics' seconds, `1700000000.123`. */
function seconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  return `${whole}.${String(ms - whole * 1000).padStart(3, '0')}`;
}

/**
 * The latest sample of every series reported, for scrapes. Bounded: at
 * `maxSeries` the series reported least recently makes room, and a series
 * not reported for `expirationMs` goes. Series are grouped by metric family,
 * as the text formats require.
 */
export class SeriesStore {
  readonly #maxSeries: number;
  readonly #families = new Map<string, Map<string, Entry>>();
  /** Every series, the least recently reported first (a report moves it to the end). */
  readonly #recency = new Map<string, Entry>();
  expirationMs: number;

  constructor(options: { maxSeries: number; expirationMs: number }) {
    this.#maxSeries = options.maxSeries;
    this.expirationMs = options.expirationMs;
  }

  get size(): number {
    return this.#recency.size;
  }

  /**
   * Takes exposition lines (`name{labels} value timestamp_ms`, as the workers
   * write them); a sample older than the one held is ignored. Returns how
   * many series were dropped to stay within maxSeries.
   */
  update(lines: Uint8Array, now: number): number {
    const bytes = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
    let dropped = 0;
    for (let start = 0; start < bytes.length; ) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end === -1) end = bytes.length;
      // Label values may hold spaces; the value and the time never do, so the line is cut from its end.
      const timeAt = bytes.lastIndexOf(SPACE, end - 1);
      const valueAt = timeAt > start ? bytes.lastIndexOf(SPACE, timeAt - 1) : -1;
      // Each part a string of its own: a slice of one string of the batch would keep the whole batch alive for as long as one series lives.
      if (valueAt > start) {
        const ms = Number(bytes.toString('latin1', timeAt + 1, end));
        dropped += this.#set(bytes.toString('utf8', start, valueAt), bytes.toString('latin1', valueAt + 1, timeAt), ms, now);
      }
      start = end + 1;
    }
    return dropped;
  }

  /** Drops the series not reported within expirationMs before `now`; returns how many. */
  expire(now: number): number {
    let expired = 0;
    for (const [series, entry] of this.#recency) {
      if (entry.seenAt >= now - this.expirationMs) break;
      this.#delete(series, entry);
      expired++;
    }
    return expired;
  }

  /** Every series in `format`, as chunks of text (a scrape of 100,000 series is several MB). */
  render(format: ExpositionFormat): string[] {
    const chunks: string[] = [];
    const type = format === 'text' ? 'untyped' : 'unknown';
    let chunk = '';
    for (const [family, series] of this.#families) {
      chunk += `# TYPE ${family} ${type}\n`;
      for (const [text, entry] of series) {
        chunk += `${text} ${entry.value} ${format === 'text' ? entry.ms : seconds(entry.ms)}\n`;
        if (chunk.length >= CHUNK_CHARS) {
          chunks.push(chunk);
          chunk = '';
        }
      }
    }
    if (format === 'openmetrics') chunk += '# EOF\n';
    if (chunk) chunks.push(chunk);
    return chunks;
  }

  #set(series: string, value: string, ms: number, now: number): number {
    const held = this.#recency.get(series);
    if (held) {
      if (ms < held.ms) return 0;
      held.value = value;
      held.ms = ms;
      held.seenAt = now;
      this.#recency.delete(series);
      this.#recency.set(series, held);
      return 0;
    }
    let dropped = 0;
    for (const [oldest, entry] of this.#recency) {
      if (this.#recency.size < this.#maxSeries) break;
      this.#delete(oldest, entry);
      dropped++;
    }
    const brace = series.indexOf('{');
    const familyName = brace === -1 ? series : series.slice(0, brace);
    let family = this.#families.get(familyName);
    if (!family) {
      family = new Map();
      this.#families.set(familyName, family);
    }
    const entry: Entry = { family, familyName, value, ms, seenAt: now };
    family.set(series, entry);
    this.#recency.set(series, entry);
    return dropped;
  }

  #delete(series: string, entry: Entry): void {
    this.#recency.delete(series);
    entry.family.delete(series);
    if (entry.family.size === 0) this.#families.delete(entry.familyName);
  }
}
