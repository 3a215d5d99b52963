import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { HostSession } from '../../src/protocol/host-session.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';

describe('reading a host under backpressure', () => {
  it('reads no more from the host while a report it handed on is not through, and goes on once it is', async () => {
    const channel = new PassThrough();
    const session = new HostSession({ stdin: new PassThrough(), channel, maxLine: 1024 * 1024, onStrayLog: () => {}, onLastError: () => {} });
    const say = (message: object): boolean => channel.write(`${JSON.stringify(message)}\n`);
    say({ type: 'hello', protocol: PROTOCOL_VERSION, pid: 1, python: '3.11', collectors: [], load_errors: [] });
    await session.hello;

    let release!: () => void;
    const through = new Promise<void>((resolve) => (release = resolve));
    const reports: number[] = [];
    const done = session.run('1', 'c.C', {
      report: (line) => {
        reports.push(JSON.parse(line.toString()).data.n);
        return reports.length === 1 ? through : undefined;
      },
      log: () => {},
      stderr: () => {},
    });
    say({ type: 'report', id: '1', collector: 'c.C', data: { n: 1 } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(channel.isPaused(), true, 'the channel is not read while the first report is in the workers');
    say({ type: 'report', id: '1', collector: 'c.C', data: { n: 2 } });
    say({ type: 'done', id: '1', status: 'ok', run_ms: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(reports, [1], 'what the host wrote meanwhile waits in the pipe');

    release();
    assert.equal((await done).status, 'ok');
    assert.deepEqual(reports, [1, 2]);
    assert.equal(channel.isPaused(), false);
  });
});
