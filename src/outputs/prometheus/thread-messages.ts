/** The messages between a prometheus output (main thread) and its exposition thread, in one place. */

/** What the thread is started with (its workerData). */
export interface ExpositionSettings {
  /** host:port, as `listen` in the config. */
  listen: string;
  path: string;
  maxSeries: number;
  expirationMs: number;
}

export type ToThread =
  /** Exposition lines of one batch (EncodedBatch.exposition). */
  | { type: 'samples'; bytes: Uint8Array }
  /** A new expiration (the longest collector interval changed). */
  | { type: 'expiration'; ms: number }
  | { type: 'close' };

export type FromThread =
  | { type: 'listening' }
  /** It could not listen (the address is taken, say): the output cannot start. */
  | { type: 'failed'; message: string }
  /** Series held now, how many went since the last message (to stay within max_series, or expired), and the thread's heap in use. */
  | { type: 'series'; series: number; evicted: number; expired: number; heapBytes: number }
  | { type: 'closed' };
