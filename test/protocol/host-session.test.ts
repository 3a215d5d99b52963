import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { HostSession } from '../../src/protocol/host-session.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';

/** A session over in-memory pipes: what a host would write goes into `host`. */
function session() {
  const host = new PassThrough();
  const stdin = new PassThrough();
  const s = new HostSession({ stdin, channel: host, maxLine: 1024 * 1024, onStrayLog: () => {}, onLastError: () => {} });
  const say = (message: object) => host.write(`${JSON.stringify(message)}\n`);
  return { session: s, say };
}

const hello = (protocol: number) => ({ type: 'hello', protocol, pid: 1, python: '3.11', collectors: [], load_errors: [] });

describe('host session', () => {
  it('accepts a host that speaks its protocol version', async () => {
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION));
    assert.equal((await s.hello).protocol, PROTOCOL_VERSION);
  });

  it('fails a host that speaks another protocol version, saying which', async () => {
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION + 1));
    await assert.rejects(s.hello, (err: Error & { reason?: string }) => {
      assert.equal(err.reason, 'protocol');
      assert.match(err.message, new RegExp(`speaks protocol version ${PROTOCOL_VERSION + 1}, this runner ${PROTOCOL_VERSION}`));
      return true;
    });
    assert.equal((await s.failed).reason, 'protocol');
  });

  it('gives a run its done with the usage the host measured, and fails a host whose usage is not figures', async () => {
    const sink = { report: () => {}, log: () => {}, stderr: () => {} };
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION));
    const usage = { cpu_ms: 1.5, peak_bytes: 1024 };
    const run = s.run('1', 'c.C', sink);
    say({ type: 'done', id: '1', status: 'ok', run_ms: 2, usage });
    assert.deepEqual((await run).usage, usage);

    const bad = s.run('2', 'c.C', sink);
    say({ type: 'done', id: '2', status: 'ok', run_ms: 2, usage: { cpu_ms: -1 } });
    await assert.rejects(bad, /the collector host broke the protocol: done with a usage\.cpu_ms that is not a number >= 0/);
  });
});
