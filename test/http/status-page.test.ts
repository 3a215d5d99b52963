import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CollectorsReport } from '../../src/http/api-types.js';
import { Chromium, requireChromium, type Page } from '../helpers/chromium.js';
import { startRunner } from '../helpers/cli.js';
import { freePort, REPO_ROOT, tempTree, waitFor } from '../helpers/fixtures.js';

/** Where the test leaves its screenshot; docs/status-page.png (shown in the README) is a copy of one. */
const SCREENSHOT = path.join(REPO_ROOT, 'dist', 'status-page.png');

const COLLECTORS = {
  'python.d/status/healthy.py': `
    from datakit_framework import DataKitFramework

    class Healthy(DataKitFramework):
        name = 'Healthy'
        interval = 1

        def run(self):
            self.feed_metric(measurement='up', fields={'value': 1})
  `,
  'python.d/status/toggle.py': `
    import os
    from datakit_framework import DataKitFramework

    class Toggle(DataKitFramework):
        name = 'Toggle'
        interval = 1

        def run(self):
            if os.path.exists(os.environ['FAIL_FLAG']):
                raise ConnectionError('the service it watches went away')
            self.feed_metric(measurement='toggle', fields={'value': 1})
  `,
  // Its error is also markup: the page must show it as text.
  'python.d/status/broken.py': `
    from datakit_framework import DataKitFramework

    class Broken(DataKitFramework):
        name = 'Broken'
        interval = 1

        def run(self):
            raise ValueError('<b>boom</b> & <img src=x onerror="document.title=1">')
  `,
};

/** The health a collector's card shows, as its text. */
const health = (page: Page, collector: string) =>
  page.evaluate<string | null>(`document.querySelector('[data-collector="status/${collector}"] .badge.health')?.textContent ?? null`);

describe('the status page at GET /', () => {
  it('shows every collector and its state in chromium, updates without a reload when a collector starts failing, and says on top what is not healthy', async (t) => {
    if (!requireChromium(t)) return;
    const flag = path.join(tempTree(), 'fail');
    const endpoint = `127.0.0.1:${await freePort()}`;
    const root = tempTree({
      ...COLLECTORS,
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"
        quarantine_after = 3
        [[inputs.pythond]]
        name = "status"
        dirs = ["status"]
        envs = ["FAIL_FLAG=${flag}"]
        [[outputs.file]]
        path = "data/points.jsonl"
        [[outputs.prometheus]]
        listen = "${endpoint}"
      `,
    });
    const runner = startRunner(['--config', path.join(root, 'pythond.toml')], { cwd: root });
    const browser = await Chromium.launch();
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the runner to listen');
      const report = async () => (await (await fetch(`${url}/v1/collectors`)).json()) as CollectorsReport;
      await waitFor(async () => {
        const collectors = (await report()).inputs[0]?.collectors ?? [];
        const byId = new Map(collectors.map((c) => [c.collector, c]));
        return byId.get('broken.Broken')?.health === 'quarantined' && byId.get('healthy.Healthy')?.runs && byId.get('toggle.Toggle')?.runs;
      }, 'Broken quarantined, the others run');

      const page = await browser.open(url, { width: 1280, height: 900 });
      await waitFor(async () => (await health(page, 'broken.Broken')) === 'quarantined', 'the page to show Broken quarantined');
      assert.equal(await health(page, 'healthy.Healthy'), 'healthy');
      assert.equal(await health(page, 'toggle.Toggle'), 'healthy');
      const text = await page.evaluate<string>('document.body.innerText');
      for (const shown of ['pythond', 'version', 'process runtime', 'status', 'Healthy', 'Toggle', 'Broken', 'healthy.Healthy', 'file[0]']) {
        assert.ok(text.includes(shown), `the page shows ${shown}`);
      }
      // The endpoint's row: where Prometheus scrapes it, and the series it holds (up_value and toggle_value).
      assert.match(
        await page.evaluate<string>(`document.querySelector('[data-output="prometheus[0]"]').innerText`),
        new RegExp(`prometheus\\[0\\]\\s+http://${endpoint}/metrics\\s+2 series`),
      );
      // A collector's error is text on the page, never markup.
      const error = await page.evaluate<{ summary: string; elements: number }>(`(() => {
        const card = document.querySelector('[data-collector="status/broken.Broken"]');
        return { summary: card.querySelector('details.error summary').textContent, elements: card.querySelectorAll('b, img').length };
      })()`);
      assert.equal(error.summary, 'ValueError: <b>boom</b> & <img src=x onerror="document.title=1">');
      assert.equal(error.elements, 0);

      // Toggle starts failing: the open page shows it, without loading again, and the traceback a reader opened stays open.
      await page.evaluate(`document.querySelector('[data-collector="status/broken.Broken"] details').open = true`);
      await page.evaluate('window.sameDocument = true');
      writeFileSync(flag, '');
      // Backing off after its first failure, quarantined after its third: the page may poll after either.
      await waitFor(async () => (await health(page, 'toggle.Toggle')) !== 'healthy', 'the page to show Toggle failing', 20_000, 200);
      assert.match((await health(page, 'toggle.Toggle'))!, /^(backing off|quarantined)$/);
      assert.equal(await page.evaluate('window.sameDocument'), true, 'the page was not loaded again');
      assert.match(
        await page.evaluate<string>(`document.querySelector('[data-collector="status/toggle.Toggle"]').innerText`),
        /ConnectionError: the service it watches went away/,
      );
      assert.equal(await page.evaluate(`document.querySelector('[data-collector="status/broken.Broken"] details').open`), true);
      // A script that does not load, added while it runs: the reload keeps the running version, and the page says so on top.
      writeFileSync(path.join(root, 'python.d/status/syntax.py'), 'def oops(:\n');
      const problems = () => page.evaluate<string[]>(`[...document.querySelectorAll('#problems li')].map((li) => li.textContent)`);
      const reloadProblem = await waitFor(
        async () => (await problems()).find((problem) => problem.includes('kept the running version of input status')),
        'the page to show the failed reload',
        30_000,
        200,
      );
      assert.match(
        reloadProblem,
        /^the last reload \(python\.d\/status\/syntax\.py changed\) kept the running version of input status, its new one does not load: .*syntax\.py.*SyntaxError/,
      );
      assert.ok(
        (await problems()).some((problem) => problem.startsWith('status/broken.Broken is failing (quarantined')),
        'failing collectors are listed too',
      );
      assert.equal(((await (await fetch(`${url}/healthz`)).json()) as { status: string }).status, 'degraded');
      writeFileSync(SCREENSHOT, await page.screenshot());
      t.diagnostic(`screenshot: ${SCREENSHOT}`);

      // On a phone's width nothing is wider than the screen.
      const phone = await browser.open(url, { width: 390, height: 844 });
      await waitFor(async () => (await health(phone, 'broken.Broken')) === 'quarantined', 'the page to render on a phone');
      assert.ok(await phone.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scrolling');
    } finally {
      await Promise.all([runner.stop(), browser.close()]);
    }
  });
});
