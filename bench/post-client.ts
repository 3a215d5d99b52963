import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

/**
 * The write benchmarks' client, in a process of its own as a real client
 * is: posting from the bench's own process put the client's work (fetch
 * copies every body) on the main thread of the pythond under test, and not
 * on the VictoriaMetrics it is compared with.
 *
 * `node post-client.js --url U --lines N --rounds R --connections C [--gzip]`:
 * posts a line-protocol body of N points (gzipped once, before any post,
 * with --gzip) R times over C connections at once (after one warm-up post
 * per connection) and prints `{"perPostMs": [...], "wallMs": ...}`.
 */

/** A line-protocol body of `lines` points, each with tags, four field types and a timestamp (~110 bytes a line). */
export function lineProtocolBody(lines: number): Uint8Array<ArrayBuffer> {
  const parts: string[] = [];
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < lines; i++) {
    parts.push(`bench_cpu,host=web${i % 50},region=eu-west-1 usage=${(i % 1000) / 10},count=${i}i,ok=t,state="running" ${t0 + BigInt(i)}\n`);
  }
  return Buffer.from(parts.join(''));
}

/** Posts `body` `rounds` times over `connections` connections at once; the wall time of each post. */
async function postMany(
  url: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
  rounds: number,
  connections: number,
): Promise<{ perPostMs: number[]; wallMs: number }> {
  const perPostMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < rounds) {
        const began = performance.now();
        const response = await fetch(url, { method: 'POST', body, headers });
        if (!response.ok) throw new Error(`write answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
        perPostMs.push(performance.now() - began);
      }
    }),
  );
  return { perPostMs, wallMs: performance.now() - started };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, lines: { type: 'string' }, rounds: { type: 'string' }, connections: { type: 'string' }, gzip: { type: 'boolean' } },
  });
  const plain = lineProtocolBody(Number(values.lines));
  const body = values.gzip ? new Uint8Array(gzipSync(plain)) : plain;
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', ...(values.gzip ? { 'Content-Encoding': 'gzip' } : {}) };
  const connections = Number(values.connections);
  await postMany(values.url!, body, headers, connections, connections); // warm up the server and the connections
  process.stdout.write(`${JSON.stringify(await postMany(values.url!, body, headers, Number(values.rounds), connections))}\n`);
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  main().catch((err: unknown) => {
    process.stderr.write(`post client failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
