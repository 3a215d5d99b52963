import zlib from 'node:zlib';

/** The compressions DataKit's write API takes (`Content-Encoding`, or its `encoding` parameter). */
export type BodyEncoding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** Node's zlib has zstd from 22.15 on; on older Node a zstd body is refused as not supported. */
const HAS_ZSTD = typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function';

/** The compressions this Node can inflate. */
export const BODY_ENCODINGS: readonly BodyEncoding[] = HAS_ZSTD ? ['gzip', 'deflate', 'br', 'zstd'] : ['gzip', 'deflate', 'br'];
