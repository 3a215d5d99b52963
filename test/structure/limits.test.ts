import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.js';

/** Every file under `dir` (relative to the repository) whose name ends with `ext`. */
function files(dir: string, ext: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(ext))
    .map((entry) => path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name)));
}

const lines = (file: string): number => readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n').length - 1;
const sources = (): string[] => [...files('src', '.ts'), ...files('workers', '.ts')];

/**
 * What keeps the centre small as features land: a module that grows past
 * these sizes is doing more than one job, and an error that is only logged
 * is one an operator alerting on /metrics never sees.
 */
describe('source limits', () => {
  it('keeps every TypeScript module of src/ and workers/ at 400 lines or fewer', () => {
    assert.deepEqual(
      sources()
        .filter((file) => lines(file) > 400)
        .map((file) => `${file}: ${lines(file)} lines`),
      [],
    );
  });

  it('keeps every Python module of the SDK and the collector host at 400 lines or fewer', () => {
    assert.deepEqual(
      files('python.d/core', '.py')
        .filter((file) => lines(file) > 400)
        .map((file) => `${file}: ${lines(file)} lines`),
      [],
    );
  });

  it('keeps the README a landing page of 300 lines or fewer (the detail is in docs/)', () => {
    assert.ok(lines('README.md') <= 300, `README.md has ${lines('README.md')} lines`);
  });

  it('logs errors and warnings only through telemetry events, each of which counts what it logs', () => {
    const calls = sources()
      .filter((file) => !file.startsWith(`src${path.sep}telemetry${path.sep}`))
      .flatMap((file) =>
        readFileSync(path.join(REPO_ROOT, file), 'utf8')
          .split('\n')
          .flatMap((line, i) => (/(\blog|#log|logger)\??\.(error|warn)\(|(\blog|#log|logger)\[/.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(calls, []);
  });

  it('defines the check for a plain object (a TOML table, a JSON object) once', () => {
    const definitions = sources().flatMap((file) =>
      [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/(?:function|const)\s+(isTable|isObject|isRecord|isPlainObject)\b/g)].map(
        (match) => `${file}: ${match[1]}`,
      ),
    );
    assert.equal(definitions.length, 1, definitions.join('\n'));
  });
});
