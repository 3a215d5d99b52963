import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { startHttpApi } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { smallDisk } from '../helpers/small-disk.js';

/** A body of `lines` points, each told apart by its field. */
const body = (batch: number, lines: number): string => Array.from({ length: lines }, (_, i) => `disk,batch=b${batch} n=${i}i`).join('\n');
const fileLines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('a full disk under data_dir', () => {
  it('answers 503 with Retry-After instead of 200 once an output cannot keep the points, and the file output reopens its path once it is removed', async (t) => {
    const disk = smallDisk(t, '1m');
    if (!disk) return;
    const root = tempTree({ 'python.d/idle/idle.py': IDLE_COLLECTOR });
    const config = parseConfig(
      `
[runner]
executor = "process"
listen = "127.0.0.1:0"
data_dir = ${JSON.stringify(path.join(disk, 'data'))}
[[inputs.pythond]]
name = "idle"
dirs = ["idle"]
[[outputs.file]]
path = ${JSON.stringify(path.join(disk, 'points.jsonl'))}
[[outputs.datakit]]
url = "http://127.0.0.1:9"
`,
      'full-disk.toml',
      root,
      PLUGINS,
    );
    const app = new App(config, { log: silentLogger });
    const api = await startHttpApi(app, { listen: config.runner.listen, maxBodySize: config.runner.max_body_size, log: silentLogger });
    const pointsFile = path.join(disk, 'points.jsonl');
    try {
      await app.start();
      const post = (batch: number) => fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: body(batch, 2_000) });

      // Write until the disk is full: every 200 must be in the file; the first refusal says why and when to come back.
      const accepted: number[] = [];
      let refused: Response | undefined;
      for (let batch = 0; batch < 40 && !refused; batch++) {
        const response = await post(batch);
        if (response.status === 200) accepted.push(batch);
        else refused = response;
      }
      assert.ok(refused, 'the 1 MiB disk filled up');
      assert.ok(accepted.length >= 1, 'some bodies fit first');
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '10');
      const answer = (await refused.json()) as { error_code: string; message: string };
      assert.equal(answer.error_code, 'pythond.notStored');
      assert.match(answer.message, /ENOSPC/);
      const stored = new Set(fileLines(pointsFile).map((line) => (JSON.parse(line) as { tags: { batch: string } }).tags.batch));
      for (const batch of accepted) assert.ok(stored.has(`b${batch}`), `batch ${batch} was answered 200, so it is in the file`);
      for (const line of fileLines(pointsFile)) JSON.parse(line); // no half line was left behind

      // The user frees space by removing the file: the output lets go of it and writes a new one.
      const freeBefore = statfsSync(disk).bavail;
      rmSync(pointsFile);
      // The file output lets go of the removed file at its next write; a write racing with that may still be refused, as a client that honours Retry-After sees.
      await waitFor(async () => (await post(1_000)).status === 200, 'a write to be taken again', 20_000, 500);
      assert.ok(statfsSync(disk).bavail > freeBefore, "the removed file's space came back");
      assert.deepEqual(
        new Set(fileLines(pointsFile).map((line) => (JSON.parse(line) as { tags: { batch: string } }).tags.batch)),
        new Set(['b1000']),
        'the new file holds the new points',
      );
    } finally {
      await api.close();
      await app.stop();
    }
  });
});
