import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type JoinStep, type MemberState, MemberStates } from '../../src/cluster/member-state.js';
import { ClusterEvents } from '../../src/telemetry/events/cluster-events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

/** A member's states, with every change it reported. */
function states() {
  const transitions: string[] = [];
  const steps: string[] = [];
  const machine = new MemberStates('m1', {
    transition: (_member: string, from: MemberState, to: MemberState) => transitions.push(`${from}>${to}`),
    step: (_member: string, from: JoinStep, to: JoinStep) => steps.push(`${from}>${to}`),
  });
  return { machine, transitions, steps };
}

describe('a cluster member state', () => {
  it('starts joining, at registering', () => {
    const { machine } = states();
    assert.equal(machine.state, 'joining');
    assert.equal(machine.step, 'register');
  });

  it('goes through joining, member, fenced, member, closed, reporting each transition once', () => {
    const { machine, transitions } = states();
    for (const next of ['member', 'member', 'fenced', 'fenced', 'member', 'closed'] as const) machine.to(next);
    assert.deepEqual(transitions, ['joining>member', 'member>fenced', 'fenced>member', 'member>closed']);
  });

  it('can be fenced while joining (its lease uncertain before its first pass is over)', () => {
    const { machine, transitions } = states();
    assert.equal(machine.to('fenced'), true);
    assert.equal(machine.to('member'), true);
    assert.deepEqual(transitions, ['joining>fenced', 'fenced>member']);
  });

  it('stays closed: a late pass or fence changes nothing', () => {
    const { machine, transitions } = states();
    machine.to('closed');
    assert.equal(machine.to('member'), false);
    assert.equal(machine.to('fenced'), false);
    assert.equal(machine.state, 'closed');
    assert.deepEqual(transitions, ['joining>closed']);
  });

  it('refuses a transition there is not, naming it', () => {
    const { machine } = states();
    machine.to('member');
    assert.throws(() => machine.to('joining'), /cluster member m1: no transition from member to joining/);
  });

  it('moves through its steps in order, and an event sends it back to a step and every one after it', () => {
    const { machine, steps } = states();
    machine.done('sync'); // not the step it is at: nothing
    machine.done('register');
    machine.done('sync');
    machine.done('ready'); // the last step: nothing
    assert.equal(machine.step, 'ready');
    machine.redo('sync'); // a watch cancelled
    machine.redo('ready'); // later than where it is: nothing
    machine.done('sync');
    machine.redo('register'); // a new lease
    assert.deepEqual(steps, ['register>sync', 'sync>ready', 'ready>sync', 'sync>ready', 'ready>register']);
  });

  it('counts each transition on /metrics through the cluster events', async () => {
    const metrics = createMetrics('test');
    const machine = new MemberStates('m1', new ClusterEvents(silentLogger, metrics));
    machine.to('member');
    machine.to('fenced');
    machine.to('member');
    const text = await metrics.registry.metrics();
    assert.match(text, /^pythond_cluster_transitions_total\{from="joining",to="member"\} 1$/m);
    assert.match(text, /^pythond_cluster_transitions_total\{from="member",to="fenced"\} 1$/m);
    assert.match(text, /^pythond_cluster_transitions_total\{from="fenced",to="member"\} 1$/m);
  });
});
