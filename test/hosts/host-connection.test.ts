import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mock, test } from 'node:test';
import { pino } from 'pino';
import { openConnection } from '../../src/hosts/host-connection.js';
import { HostFailure, type HostExit } from '../../src/protocol/host-failure.js';
import { InputEvents } from '../../src/telemetry/events/input-events.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { RuntimeHost } from '../../src/runtimes/runtime.js';
import { metricValue } from '../helpers/input-harness.js';
import { settle } from '../helpers/manual-clock.js';

/** A host that has said hello and then only writes what the test puts on its stderr. */
function fakeHost(): RuntimeHost & { stderr: PassThrough } {
  const channel = new PassThrough();
  channel.write(`${JSON.stringify({ type: 'hello', protocol: 1, pid: 1, python: '3', collectors: [], load_errors: [] })}\n`);
  let exit: (how: HostExit) => void = () => {};
  return {
    id: 'fake',
    stdin: new PassThrough(),
    channel,
    stderr: new PassThrough(),
    exited: new Promise<HostExit>((resolve) => (exit = resolve)),
    kill: async () => exit('signal SIGKILL'),
  };
}

test("output outside runs past max_stderr is dropped, and logged again a minute later: a service's threads write outside its run, which never ends", async () => {
  mock.timers.enable({ apis: ['Date'], now: 0 });
  try {
    const logged: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });
    const metrics = createMetrics('test');
    const events = new InputEvents(log, metrics, 'test');
    const host = fakeHost();
    const connection = await openConnection(async () => host, { maxLine: 1024, maxStray: 100, events, onLastError: () => {} });
    const line = `${'x'.repeat(59)}\n`;
    for (let i = 0; i < 4; i++) host.stderr.write(line);
    await settle();
    assert.deepEqual(logged, [
      'x'.repeat(59),
      'x'.repeat(59),
      'collector host fake: more output outside runs is dropped for a minute or until the next run starts (max_stderr)',
    ]);
    const counted = { lines: { input: 'test', collector: '', stream: 'stderr' }, drops: { input: 'test', reason: 'stray_output' } };
    assert.equal(await metricValue(metrics, 'pythond_collector_output_lines_total', counted.lines), 2, 'the lines logged are counted');
    assert.equal(await metricValue(metrics, 'pythond_input_errors_total', counted.drops), 1, 'the drop is counted');
    mock.timers.tick(59_999);
    host.stderr.write(line);
    await settle();
    assert.equal(logged.length, 3, 'still dropped');
    mock.timers.tick(1);
    host.stderr.write(line);
    await settle();
    assert.equal(logged.length, 4, 'logged again');
    assert.equal(await metricValue(metrics, 'pythond_collector_output_lines_total', counted.lines), 3);
    await connection.kill(new HostFailure('shutdown', 'test over'));
  } finally {
    mock.timers.reset();
  }
});
