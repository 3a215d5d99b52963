import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { HostFailure } from '../../src/protocol/host-failure.js';
import { HostSession, type RunSink } from '../../src/protocol/host-session.js';
import { PROTOCOL_VERSION, type LastErrorMessage, type LogMessage } from '../../src/protocol/messages.js';
import { within } from '../helpers/fixtures.js';

/** A session over in-memory pipes: what a host would write goes into `host`; what the session sends, into `sent`. */
function session(maxLine = 1024 * 1024) {
  const host = new PassThrough();
  const stdin = new PassThrough();
  const sent: unknown[] = [];
  stdin.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) sent.push(JSON.parse(line));
  });
  const stray: LogMessage[] = [];
  const lastErrors: LastErrorMessage[] = [];
  const s = new HostSession({ stdin, channel: host, maxLine, onStrayLog: (m) => stray.push(m), onLastError: (m) => lastErrors.push(m) });
  const write = (text: string) => host.write(text);
  const say = (message: object) => write(`${JSON.stringify(message)}\n`);
  return { session: s, say, write, sent, stray, lastErrors, stdin };
}

/** A sink that keeps what a run receives. */
function sink() {
  const received = { reports: [] as string[], logs: [] as string[], stderrBytes: 0 };
  const s: RunSink = {
    report: (line) => {
      received.reports.push(line.toString());
    },
    log: (message) => received.logs.push(message.text),
    stderr: (bytes) => (received.stderrBytes += bytes),
  };
  return { sink: s, received };
}

const hello = (protocol: number) => ({ type: 'hello', protocol, pid: 1, python: '3.11', collectors: [], load_errors: [] });
const report = (id: string, body = '{"M":[]}') => `{"type":"report","id":"${id}","data":${body}}`;

/** Everything here is in memory: what must happen happens at once, and a regression fails within this deadline instead of hanging the file. */
const soon = <T>(promise: Promise<T>, what: string): Promise<T> => within(promise, 5_000, what);

/** Asserts that `promise` rejects with a HostFailure of `reason` whose message matches `message`. */
async function failsWith(promise: Promise<unknown>, reason: string, message: RegExp): Promise<void> {
  await assert.rejects(soon(promise, `a failure with reason ${reason}`), (err: unknown) => {
    assert.ok(err instanceof HostFailure, `a HostFailure, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    return true;
  });
}

describe('host session', () => {
  it('accepts a host that speaks its protocol version', async () => {
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION));
    assert.equal((await soon(s.hello, 'hello')).protocol, PROTOCOL_VERSION);
  });

  it('fails a host that speaks another protocol version, saying which', async () => {
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION + 1));
    await failsWith(s.hello, 'protocol', new RegExp(`speaks protocol version ${PROTOCOL_VERSION + 1}, this runner ${PROTOCOL_VERSION}`));
    assert.equal((await soon(s.failed, 'the session to fail')).reason, 'protocol');
  });

  it('gives a run its done with the usage the host measured, and fails a host whose usage is not figures', async () => {
    const sink = { report: () => {}, log: () => {}, stderr: () => {} };
    const { session: s, say } = session();
    say(hello(PROTOCOL_VERSION));
    const usage = { cpu_ms: 1.5, peak_bytes: 1024 };
    const run = s.run('1', 'c.C', sink);
    say({ type: 'done', id: '1', status: 'ok', run_ms: 2, usage });
    assert.deepEqual((await soon(run, 'the done')).usage, usage);

    const bad = s.run('2', 'c.C', sink);
    say({ type: 'done', id: '2', status: 'ok', run_ms: 2, usage: { cpu_ms: -1 } });
    await assert.rejects(soon(bad, 'the bad done'), /the collector host broke the protocol: done with a usage\.cpu_ms that is not a number >= 0/);
  });

  it('sends a run request and gives the run its reports, its logs and its done', async () => {
    const { session: s, say, write, sent } = session();
    say(hello(PROTOCOL_VERSION));
    const { sink: into, received } = sink();
    const done = s.run('7', 'demo.Demo', into);
    assert.deepEqual(sent, [{ op: 'run', id: '7', collector: 'demo.Demo', usage: 'run' }]);
    write(`${report('7')}\n`);
    say({ type: 'log', id: '7', collector: 'demo.Demo', stream: 'stdout', text: 'hello' });
    say({ type: 'done', id: '7', status: 'ok', run_ms: 3 });
    assert.deepEqual(await soon(done, 'the done'), { type: 'done', id: '7', status: 'ok', run_ms: 3 });
    assert.deepEqual(received, { reports: [report('7')], logs: ['hello'], stderrBytes: 0 });
  });

  it('keeps runs apart by id, whatever order their messages come in', async () => {
    const { session: s, say, write } = session();
    const [a, b] = [sink(), sink()];
    const doneA = s.run('a', 'x.X', a.sink);
    const doneB = s.run('b', 'y.Y', b.sink);
    write(`${report('b', '1')}\n${report('a', '2')}\n`);
    say({ type: 'done', id: 'b', status: 'error', run_ms: 1, error: 'ValueError' });
    say({ type: 'done', id: 'a', status: 'ok', run_ms: 2 });
    assert.equal((await soon(doneA, 'the done of a')).status, 'ok');
    assert.equal((await soon(doneB, 'the done of b')).error, 'ValueError');
    assert.deepEqual([a.received.reports, b.received.reports], [[report('a', '2')], [report('b', '1')]]);
  });

  it('logs output written outside any run, and passes set_lasterror() on', () => {
    const { say, stray, lastErrors } = session();
    say({ type: 'log', id: null, collector: null, stream: 'stderr', text: 'at import time' });
    say({ type: 'log', id: 'gone', collector: 'x.X', stream: 'stdout', text: 'from a thread whose run is over' });
    say({ type: 'lasterror', id: null, collector: 'x.X', input: 'in', error: 'disk gone' });
    assert.deepEqual(
      stray.map((m) => m.text),
      ['at import time', 'from a thread whose run is over'],
    );
    assert.deepEqual(lastErrors, [{ type: 'lasterror', id: null, collector: 'x.X', input: 'in', error: 'disk gone' }]);
  });

  it('charges raw stderr bytes to every run in flight', () => {
    const { session: s } = session();
    const [a, b] = [sink(), sink()];
    void s.run('a', 'x.X', a.sink);
    void s.run('b', 'y.Y', b.sink);
    s.chargeStderr(100);
    assert.deepEqual([a.received.stderrBytes, b.received.stderrBytes], [100, 100]);
  });

  const violations: [string, (say: (m: object) => void, write: (t: string) => void) => void, RegExp][] = [
    ['a line that is not JSON', (_, write) => write('garbage\n'), /broke the protocol: a line that is not JSON: "garbage"/],
    ['a JSON value that is not an object', (_, write) => write('[1,2]\n'), /not a JSON object/],
    ['a message of an unknown type', (say) => say({ type: 'surprise' }), /unknown message type "surprise"/],
    ['a second hello', (say) => [hello(PROTOCOL_VERSION), hello(PROTOCOL_VERSION)].forEach(say), /a second hello/],
    ['a done for a run not in flight', (say) => say({ type: 'done', id: 'nobody', status: 'ok', run_ms: 1 }), /done for run "nobody", which is not in flight/],
    ['a report for a run not in flight', (_, write) => write(`${report('nobody')}\n`), /report for run "nobody", which is not in flight/],
    ['an error the host reports', (say) => say({ type: 'error', error: 'cannot import host' }), /the host reported: cannot import host/],
  ];
  for (const [what, send, message] of violations) {
    it(`fails the session, and the run in flight, on ${what}`, async () => {
      const { session: s, say, write } = session();
      const run = s.run('1', 'x.X', sink().sink);
      send(say, write);
      await failsWith(run, 'protocol', message);
      assert.equal((await soon(s.failed, 'the session to fail')).reason, 'protocol');
    });
  }

  it('fails a run whose report is longer than maxLine with max_report_size, and tells the other runs why their host goes', async () => {
    const { session: s, write } = session(64);
    const culprit = s.run('big', 'x.X', sink().sink);
    const bystander = s.run('small', 'y.Y', sink().sink);
    write(`${report('big', `"${'x'.repeat(100)}"`)}\n`);
    await failsWith(culprit, 'max_report_size', /reported one message larger than max_report_size/);
    await failsWith(bystander, 'host_restart', /restarted because another run failed: reported one message larger than max_report_size/);
  });

  it('fails the session on a line longer than maxLine that is not a report of a run in flight', async () => {
    const { session: s, write } = session(64);
    write(`${'y'.repeat(100)}\n`);
    assert.equal((await soon(s.failed, 'the session to fail')).reason, 'protocol');
    assert.match((await soon(s.failed, 'the session to fail')).message, /a line longer than max_report_size that is not a report of a run in flight/);
  });

  it('takes a report as large as max_report_size, but no other line over 1 MiB', async () => {
    const { session: s, write } = session(4 * 1024 * 1024);
    const { sink: into, received } = sink();
    const run = s.run('1', 'x.X', into);
    const large = report('1', `"${'x'.repeat(2 * 1024 * 1024)}"`);
    write(`${large}\n`);
    assert.equal(received.reports[0]?.length, large.length);
    write(`{"type":"log","text":"${'z'.repeat(1024 * 1024)}"}\n`);
    await failsWith(run, 'protocol', /a \d+-byte line that is not a report/);
  });

  it('fails the missing hello, every run in flight and every later run once failed from outside', async () => {
    const { session: s } = session();
    const run = s.run('1', 'x.X', sink().sink);
    s.fail(new HostFailure('timeout', 'still running after 1 s (timeout)'), '1');
    s.fail(new HostFailure('protocol', 'a second failure is ignored'));
    await failsWith(run, 'timeout', /still running/);
    await failsWith(s.hello, 'timeout', /still running/);
    await failsWith(s.run('2', 'x.X', sink().sink), 'timeout', /still running/);
    assert.equal((await soon(s.failed, 'the session to fail')).reason, 'timeout');
  });

  it('ignores what the host writes after the session failed', async () => {
    const { session: s, say, stray } = session();
    s.fail(new HostFailure('exit 1', 'collector host exited'));
    say({ type: 'log', id: null, collector: null, stream: 'stderr', text: 'too late' });
    assert.deepEqual(stray, []);
  });

  it('ends the host by closing its stdin', async () => {
    const { session: s, stdin } = session();
    const ended = new Promise((resolve) => stdin.on('finish', resolve));
    s.end();
    await soon(ended, 'stdin to finish');
  });
});
