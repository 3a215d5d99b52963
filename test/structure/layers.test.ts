import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.js';

/**
 * The layers of the source tree, lowest first: a module may import from its
 * own folder and from lower layers only, never from its own layer's other
 * folders or from above. So the folders form no cycle, and the layout reads
 * as the architecture: what a tick needs at the bottom, the app and its
 * doors (HTTP, command line) at the top.
 */
const LAYERS: string[][] = [
  ['version', 'errors', 'schema', 'backoff', 'telemetry'],
  ['discovery', 'protocol', 'points', 'instance-id'],
  ['config', 'workers', 'scheduler'],
  ['runtimes', 'outputs', 'gitrepos'],
  ['hosts'],
  ['inputs'],
  ['reload'],
  ['cluster'],
  ['app', 'plugins'],
  ['http'],
  ['cli'],
  ['main'],
];

const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));

/** `src/outputs/file/x.ts` → `outputs`; `src/app.ts` → `app`; `workers/x.ts` → `workers`. */
function unitOf(file: string): string {
  const [top, first, ...rest] = path.relative(REPO_ROOT, file).split(path.sep);
  if (top === 'workers') return 'workers';
  return rest.length > 0 ? first! : path.basename(first!, '.ts');
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Every relative import of every source file, type-only imports included: `[from unit, to unit, where]`. */
function imports(): [string, string, string][] {
  const edges: [string, string, string][] = [];
  for (const file of [...sources(path.join(REPO_ROOT, 'src')), ...sources(path.join(REPO_ROOT, 'workers'))]) {
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts'));
      edges.push([unitOf(file), unitOf(target), `${path.relative(REPO_ROOT, file)} imports ${specifier}`]);
    }
  }
  return edges;
}

describe('source layout', () => {
  it('puts every folder of src/ (and workers/) in a layer', () => {
    const units = new Set<string>();
    for (const [from, to] of imports()) units.add(from).add(to);
    assert.deepEqual(
      [...units].filter((unit) => !layerOf.has(unit)),
      [],
    );
  });

  it('imports only downwards: from lower layers, or within the same folder', () => {
    const upwards = imports()
      .filter(([from, to]) => from !== to && layerOf.get(to)! >= layerOf.get(from)!)
      .map(([from, to, where]) => `${where} (${from}, layer ${layerOf.get(from)}, to ${to}, layer ${layerOf.get(to)})`);
    assert.deepEqual(upwards, []);
  });
});
