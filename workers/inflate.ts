import zlib from 'node:zlib';
import type { BodyEncoding } from '../src/points/body-encoding.js';
import type { WriteRejection } from '../src/points/tasks.js';
import { formatBytes } from '../src/schema/units.js';

type Inflate = (body: Buffer, options: { maxOutputLength: number }) => Buffer;

/** RFC 1950's header: HTTP's `deflate` is zlib's format, but some clients send raw deflate (RFC 1951), which has none. */
const isZlibStream = (body: Buffer): boolean => body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0;

const INFLATE: Record<BodyEncoding, Inflate | undefined> = {
  gzip: zlib.gunzipSync,
  deflate: (body, options) => (isZlibStream(body) ? zlib.inflateSync(body, options) : zlib.inflateRawSync(body, options)),
  br: zlib.brotliDecompressSync,
  zstd: (zlib as { zstdDecompressSync?: Inflate }).zstdDecompressSync,
};

/**
 * A compressed write body, inflated. zlib stops as soon as the output
 * passes `maxBytes`, so a body that inflates a thousandfold (or a
 * millionfold: brotli's zeros) costs at most `maxBytes` of memory before
 * it is refused.
 */
export function inflate(body: Buffer, compression: BodyEncoding, maxBytes: number): Buffer | WriteRejection {
  try {
    return INFLATE[compression]!(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const message = `the body inflates (${compression}) past max_body_size (${formatBytes(maxBytes)}); split it, or raise [runner] max_body_size`;
      return { rejected: 'tooLarge', message, invalid: 0 };
    }
    return { rejected: 'undecodable', message: `the body is not valid ${compression}: ${(err as Error).message}`, invalid: 0 };
  }
}
