import { duration, integer, size, withDefault, type TableOf } from '../../schema/fields.js';

/** The keys every buffered output takes: how it batches sends, how much it keeps while its destination is away. */
export const bufferSchema = () => ({
  /** Points per request; a request holds at least one collector batch, which can be larger. */
  batch_size: withDefault(integer(1, 1_000_000), 5_000),
  /** How long points wait for a batch to fill before they are sent anyway. */
  flush_interval: withDefault(duration(10), 1_000),
  /** Disk the buffer may use; when it is full, the oldest points are dropped. */
  buffer_size: withDefault(size(64 * 1024), 256 * 1024 ** 2),
});

export type BufferOptions = TableOf<ReturnType<typeof bufferSchema>>;
