import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { valueSymbol } from 'piscina';
import type { Category, Encoding, Precision } from '../../src/points/point.js';
import type { DecodeResult, EchoFormat } from '../../src/points/tasks.js';
import { ECHO_ENCODING, PointBatcher } from '../../workers/point-batcher.js';
import { TagFiller } from '../../workers/tag-filler.js';
import { transcodeLineProtocol } from '../../workers/write-lines.js';
import { parseLineProtocol as parseReference } from '../helpers/line-protocol-reference.js';

/**
 * The write API's one-pass line-protocol path (#31) against the path it
 * replaced (each line parsed into a point, validated, tagged and encoded
 * as a collector's points are): same points accepted, same rejections with
 * the same messages, and byte for byte the same output in every encoding.
 */

interface Case {
  text: string;
  category: Category;
  precision: Precision;
  tags: Record<string, string>;
  encodings: Encoding[];
  echo?: EchoFormat;
}

const RECEIVED_AT = '1765000000000000000';

function outcome(batcher: PointBatcher, echo: EchoFormat | undefined): unknown {
  const { points, invalid, errors } = batcher.counts;
  if (invalid > 0) return { points, invalid, errors: [...errors] };
  const moved = batcher.finish(echo) as unknown as Record<symbol, DecodeResult>;
  return moved[valueSymbol];
}

function oldPath(c: Case): unknown {
  const batcher = new PointBatcher(c.encodings);
  const tags = new TagFiller(c.tags);
  parseReference(c.text, {
    point: (line, point) => {
      const problem = batcher.add(c.category, point, c.precision, RECEIVED_AT, tags);
      if (problem) batcher.reject(`line ${line}: ${problem}`);
    },
    error: (line, message) => batcher.reject(`line ${line}, ${message}`),
  });
  return outcome(batcher, c.echo);
}

function newPath(c: Case): unknown {
  const batcher = new PointBatcher(c.encodings);
  transcodeLineProtocol(c.text, { category: c.category, precision: c.precision, receivedAtNs: RECEIVED_AT, tags: new TagFiller(c.tags), batcher });
  return outcome(batcher, c.echo);
}

/** Every line the parser's own tests read (test/workers/line-protocol.test.ts), escapes and mistakes included. */
const PARSER_TEST_LINES = [
  String.raw`disk\ io\,\ "m"=1,a\\b=c\\\ d,key\ with\ space=v\,1\=2,ünï=cödé f\=1="text with \"quotes\", \\backslashes\\ and` +
    '\na line break",i\\ i=-42i,x\\,y=0.25,ok=false 1700000000000000000',
  'm a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE',
  'm x=tRUE',
  'm i=-9223372036854775808i,u=9223372036854775807u,f=1,g=-.5,h=1.,e=6.02e23,n=-1E-3',
  '# comment\n\n  \t\n  m,t=1   v=1 \t 5  \n\t# indented comment\nm v=2\r',
  'm v=\nm v=1\nm,t v=1\nm v=2',
  String.raw`disk\ io\,x,path=/a\ b,dev\=1=c\\ v=1` +
    '\n' +
    String.raw`disk\ io\,x,path=/a\ b,dev\=1=c\\` +
    '\n' +
    String.raw`disk\ io\,x,path=/a\ b,dev\=1=c\\  v=3 7`,
  'm,t=a v=1\nm,t=a\\\nm,t= v=1',
  'm v=1\nm s="never closed\nm v=2',
  'm b="aGk="b\nm u=-1u',
  ',t=1 v=1',
  'm,=1 v=1',
  'm,t v=1',
  'm',
  'm,t=1',
  'm  ',
  'm v=1,',
  'm =1',
  'm v',
  'm v=1 12.5',
  'm v=1 5 extra',
  'm v="x"y',
  'm,t=1\rx v=1',
  'm v=9223372036854775808i',
  'm v=-9223372036854775809i',
  'm v=9223372036854775808u',
  'm v=1e999',
  'm v=[1i,2i]',
  'm v=1.2.3',
  'm v=1i2',
  'm v=x1',
  'm v=1.5x',
  'm v=x1.5',
  'm v=x1i',
  'm v=1xi',
  `m,${'k'.repeat(65)} v=1`,
  'm a=9223372036854775807i,b=-9223372036854775808i,c=0u,d=-.5,e=.5e1,f=1.E2,g=-1e-2,h=12.25,i=-0.125',
  String.raw`m\ x\,y\=z\\w,k\ 1\,\=\\=v\ 1\,\=\\ a\ b\,c\=d\\e=1,s="a\"b\\c\d" 5`,
  String.raw`m\t\n v=1`,
  'm v="line1\nline2\nline3" 5\nm bad',
  'm v=1 \t 7 \t\r\nm v=2\t-5\r\nm v=3 \nm v=4',
  'm s="ends with a backslash\\\\"',
  'm v="a\nb" x',
  'm v=1\n# the end',
];

/** A small seeded generator: the corpus is the same on every run, and a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const MEASUREMENTS = ['cpu', String.raw`disk\ io`, String.raw`a\,b`, 'm\\x', 'ünï', 'm=1', '1m', 'm"q', String.raw`m\\`, 'm\\=', 'x😀'];
const KEYS = ['v', String.raw`a\ b`, String.raw`x\,y`, String.raw`k\=1`, '10', '2', '0', '__proto__', 'é', '"q"', 'name', 'host', 'b', 'a', 'k\\', '01'];
const TAG_VALUES = ['a', String.raw`v\ 1`, String.raw`c\,d`, String.raw`e\=f`, 'g\\', 'ü', '0', '', 'x=y', '"'];
const VALUES = [
  '1',
  '1.0',
  '1.50',
  '-0',
  '-0.0',
  '0',
  '.5',
  '5.',
  '-.5',
  '1e3',
  '1E-7',
  '6.02e23',
  '1e999',
  '-1e-400',
  '0.0000001',
  '0.00001',
  '0.0001',
  '0.00012',
  '123456789012345678',
  '12345678901234567',
  '123456789012345',
  '1234567890.12345',
  '0.123456789012345',
  '007',
  '9007199254740993',
  '1e21',
  '1e-7',
  '1i',
  '-1i',
  '007i',
  '-0i',
  '0i',
  '9223372036854775807i',
  '9223372036854775808i',
  '-9223372036854775808i',
  '-9223372036854775809i',
  '5u',
  '-5u',
  '-0u',
  '18446744073709551615u',
  '0u',
  '00u',
  '123456789012345678i',
  '1234567890123456789i',
  't',
  'T',
  'true',
  'True',
  'TRUE',
  'f',
  'F',
  'false',
  'False',
  'FALSE',
  'tRUE',
  '"s"',
  String.raw`"a\"b"`,
  String.raw`"a\\b"`,
  '"multi\nline"',
  String.raw`"ends\\"`,
  '"x"b',
  '[1i]',
  'x1',
  '1.2.3',
  '"unclosed',
  '""',
  '"ünï😀"',
  String.raw`"\d"`,
  '"tab\there"',
  '"cr\r\nlf"',
];
const TIMES = [
  '',
  ' 1700000000000000000',
  ' 0',
  ' -5',
  ' 007',
  ' 1700000000',
  ' 99999999999999999999',
  ' 123456789012345678901',
  ' 9223372036854775807',
  ' 9223372036854775808',
  ' -9223372036854775808',
  ' 12.5',
  ' x',
  '  42  ',
  '\t7',
];
const ENDS = ['\n', '\r\n', ' \n', '\t\n', '\n\n', '\n# comment\n'];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}

function randomLine(next: () => number): string {
  let line = pick(next, MEASUREMENTS);
  const tagCount = Math.floor(next() * 4);
  for (let i = 0; i < tagCount; i++) line += `,${pick(next, KEYS)}=${pick(next, TAG_VALUES)}`;
  const fieldCount = 1 + Math.floor(next() * 4);
  for (let i = 0; i < fieldCount; i++) line += `${i === 0 ? ' ' : ','}${pick(next, KEYS)}=${pick(next, VALUES)}`;
  return line + pick(next, TIMES);
}

const PRECISIONS: Precision[] = ['n', 'u', 'ms', 's', 'm', 'h'];
const GLOBAL_TAGS: Record<string, string>[] = [{}, { host: 'h1' }, { host: 'h1', region: 'eu', name: 'global-name' }, { a: '1', '10': 'ten' }];
const ENCODINGS: Encoding[][] = [['jsonl'], ['lineProtocol'], ['jsonl', 'lineProtocol', 'remoteWrite', 'exposition']];
const CATEGORIES: Category[] = ['metric', 'object', 'logging'];

describe('the one-pass line-protocol path', () => {
  const settings = (next: () => number): Omit<Case, 'text'> => ({
    category: pick(next, CATEGORIES),
    precision: pick(next, PRECISIONS),
    tags: pick(next, GLOBAL_TAGS),
    encodings: pick(next, ENCODINGS),
    echo: pick(next, [undefined, 'lp', 'json'] as const),
  });
  const same = (given: Case) => {
    // As the write API does: an echo's encoding is made beside the outputs' ones.
    const c = given.echo ? { ...given, encodings: [...new Set([...given.encodings, ECHO_ENCODING[given.echo]])] } : given;
    assert.deepEqual(newPath(c), oldPath(c), `body ${JSON.stringify(c.text)} (${JSON.stringify({ ...c, text: undefined })})`);
  };

  test('answers as the point path did for every line the parser tests read, in every category, precision and encoding, with and without global tags', () => {
    for (const text of PARSER_TEST_LINES)
      for (const category of CATEGORIES)
        for (const precision of ['n', 's'] as const)
          for (const tags of GLOBAL_TAGS)
            for (const encodings of ENCODINGS)
              same({ text: `${text}\n`, category, precision, tags, encodings, echo: encodings.length === 1 ? undefined : 'lp' });
  });

  test('answers as the point path did for 20,000 generated lines, one body each', () => {
    const next = random(31);
    for (let i = 0; i < 20_000; i++) same({ text: randomLine(next) + pick(next, ENDS), ...settings(next) });
  });

  test('writes the same bytes as the point path for bodies of many lines, its series repeated and interleaved', () => {
    const next = random(3131);
    for (let body = 0; body < 200; body++) {
      const lines = Array.from({ length: 1 + Math.floor(next() * 60) }, () => randomLine(next) + pick(next, ENDS));
      // Repeated series: the same measurement and tags on later lines, with other fields.
      for (let i = 0; i < lines.length; i += 3) lines.push(lines[i]!);
      same({ text: lines.join(''), ...settings(next) });
    }
  });

  test('writes the same bytes as the point path for a body of more series than a parse keeps (10,000), accepted whole', () => {
    const text = Array.from(
      { length: 12_000 },
      (_, i) => `cpu,host=h${i % 11_000},z=${i % 3} v=${i / 8},n=${i}i,s="x${i % 5}" ${1_700_000_000_000_000_000n + BigInt(i)}\n`,
    ).join('');
    for (const encodings of ENCODINGS) same({ text, category: 'metric', precision: 'n', tags: { host: 'g', env: 'prod' }, encodings, echo: 'json' });
  });

  test('writes the same bytes as the point path for lines of many fields, some written twice', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i % (n - 3)}=${i}i`).join(',');
    const text = [10, 31, 32, 33, 34, 200].map((n) => `m,host=a ${fields(n)},7=1,f0="last" ${n}\n`).join('');
    for (const encodings of ENCODINGS) same({ text, category: 'metric', precision: 'n', tags: { host: 'g' }, encodings, echo: 'lp' });
  });

  test('is held to the same output for floats of every spelling JavaScript may print differently', () => {
    const next = random(7);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
    const floats = Array.from({ length: 5_000 }, () => {
      const sign = next() < 0.3 ? '-' : '';
      const int = next() < 0.3 ? '0' : digits(1 + Math.floor(next() * 17));
      const fraction = next() < 0.4 ? '' : `.${'0'.repeat(Math.floor(next() * 8))}${digits(Math.floor(next() * 16))}`;
      const exponent = next() < 0.8 ? '' : `e${pick(next, ['', '-', '+'])}${Math.floor(next() * 30)}`;
      return `${sign}${int}${fraction}${exponent}`;
    });
    same({
      text: floats.map((value, i) => `m v=${value} ${i}\n`).join(''),
      category: 'metric',
      precision: 'n',
      tags: {},
      encodings: ['jsonl', 'lineProtocol'],
    });
  });
});
