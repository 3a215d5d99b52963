/**
 * A snappy block decoder written from the format description, for tests
 * only: it checks what workers/snappy.ts writes element by element (the real
 * decoders, Prometheus' and VictoriaMetrics', check it in the remote write
 * tests).
 */
export function snappyDecode(block: Uint8Array): Buffer {
  let at = 0;
  let length = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = block[at++]!;
    length += (byte & 0x7f) * shift;
    if (byte < 0x80) break;
  }
  const out = Buffer.alloc(length);
  let written = 0;
  while (at < block.length) {
    const tag = block[at++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n += block[at++]! * 256 ** i;
      }
      n += 1;
      if (at + n > block.length || written + n > length) throw new Error(`literal of ${n} bytes overruns the block`);
      out.set(block.subarray(at, at + n), written);
      at += n;
      written += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | block[at++]!;
    } else if (kind === 2) {
      n = (tag >>> 2) + 1;
      offset = block[at]! | (block[at + 1]! << 8);
      at += 2;
    } else {
      n = (tag >>> 2) + 1;
      offset = Buffer.from(block.buffer, block.byteOffset, block.byteLength).readUInt32LE(at);
      at += 4;
    }
    if (offset === 0 || offset > written || written + n > length) throw new Error(`copy of ${n} bytes from ${offset} back at ${written} is out of range`);
    for (let i = 0; i < n; i++) out[written + i] = out[written - offset + i]!;
    written += n;
  }
  if (written !== length) throw new Error(`decoded ${written} bytes, the block says ${length}`);
  return out;
}
