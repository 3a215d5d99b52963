import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAME_SIGNAL_MS, StopSignals } from '../../src/cli/stop-signals.js';

describe('stop signals', () => {
  const signals = () => {
    let now = 0;
    let exits = 0;
    const gate = new StopSignals({ now: () => now, exitNow: () => exits++ });
    return { gate, advance: (ms: number) => (now += ms), exits: () => exits };
  };

  it('asks for a clean stop on the first signal, with that signal', async () => {
    const { gate, exits } = signals();
    gate.receive('SIGTERM');
    assert.equal(await gate.stopping, 'SIGTERM');
    assert.equal(exits(), 0);
  });

  it('takes a repeat within the window as the same signal (npm forwarding a Ctrl-C), and a later one as the order to exit now', () => {
    const { gate, advance, exits } = signals();
    gate.receive('SIGINT');
    gate.receive('SIGINT');
    advance(SAME_SIGNAL_MS - 1);
    gate.receive('SIGINT');
    assert.equal(exits(), 0, 'repeats inside the window do not exit');
    advance(1);
    gate.receive('SIGTERM');
    assert.equal(exits(), 1, 'a signal once the window has passed exits');
  });
});
