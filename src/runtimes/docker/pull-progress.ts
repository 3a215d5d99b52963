/** One line of the engine's pull stream (`POST /images/create`). */
export interface PullEvent {
  status?: string;
  /** The layer (12 hex digits) a status is about; the tag for `Pulling from ...`. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

interface Layer {
  total: number;
  downloaded: number;
  done: boolean;
  /** It was on the engine already (`Already exists`): nothing to download. */
  present: boolean;
}

/** How the engine ends a pull that went through. */
export type PullOutcome = 'pulled' | 'current';

const LAYER_ID = /^[0-9a-f]{12}$/;
const MB = 1e6;

/**
 * What a pull has done so far, from the engine's stream of per-layer events
 * (tens a second while layers download), told as one line every
 * `everyMs` at most: `3 of 7 layers done, 45.2 of 120.0 MB downloaded`.
 */
export class PullProgress {
  readonly #everyMs: number;
  readonly #layers = new Map<string, Layer>();
  #lastLineAt: number;
  #outcome: PullOutcome | undefined;
  #error: string | undefined;

  /** `startedAt`: when the pull began, on the clock `take` is given; the first line comes `everyMs` after it. */
  constructor(everyMs: number, startedAt: number) {
    this.#everyMs = everyMs;
    this.#lastLineAt = startedAt;
  }

  /** Takes one event of the stream at time `now`; returns a progress line when one is due. */
  take(event: PullEvent, now: number): string | undefined {
    if (event.error !== undefined) this.#error = event.errorDetail?.message ?? event.error;
    const status = event.status ?? '';
    if (status.startsWith('Status: Downloaded newer image')) this.#outcome = 'pulled';
    else if (status.startsWith('Status: Image is up to date')) this.#outcome = 'current';
    if (event.id === undefined || !LAYER_ID.test(event.id)) return undefined;
    const layer = this.#layers.get(event.id) ?? { total: 0, downloaded: 0, done: false, present: false };
    this.#layers.set(event.id, layer);
    const { current, total } = event.progressDetail ?? {};
    if (status === 'Downloading' && total !== undefined) {
      layer.total = total;
      layer.downloaded = current ?? layer.downloaded;
    } else if (status === 'Download complete') {
      layer.downloaded = layer.total;
    } else if (status === 'Already exists') {
      layer.present = true;
      layer.done = true;
    } else if (status === 'Pull complete') {
      layer.done = true;
    }
    if (now - this.#lastLineAt < this.#everyMs) return undefined;
    this.#lastLineAt = now;
    return this.describe();
  }

  /** `3 of 7 layers done, 2 on the engine already, 45.2 of 120.0 MB downloaded` (the bytes once a layer downloads). */
  describe(): string {
    const layers = [...this.#layers.values()];
    const done = layers.filter((layer) => layer.done).length;
    const present = layers.filter((layer) => layer.present).length;
    const downloaded = layers.reduce((sum, layer) => sum + layer.downloaded, 0);
    const total = layers.reduce((sum, layer) => sum + layer.total, 0);
    return [
      `${done} of ${layers.length} layers done`,
      ...(present > 0 ? [`${present} on the engine already`] : []),
      ...(total > 0 ? [`${mb(downloaded)} of ${mb(total)} MB downloaded`] : []),
    ].join(', ');
  }

  /** The error the stream ended with, if it did. */
  get error(): string | undefined {
    return this.#error;
  }

  /** `pulled` (a new image) or `current` (the engine had it); undefined until the stream says. */
  get outcome(): PullOutcome | undefined {
    return this.#outcome;
  }
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1);
