import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InputReport } from '../../src/http/api-types.js';
import { ownerOf } from '../../src/cluster/rendezvous.js';
import { pythond } from '../helpers/cli.js';
import { ClusterFixture, overlaps, type Run } from '../helpers/cluster.js';
import { etcdMissing, TestEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/fixtures.js';

/**
 * Three `pythond run` replicas (process executor) sharing 30 inputs at 1 s
 * through a real etcd on loopback, through the life of a cluster: steady
 * running, a member killed with SIGKILL, a member joining, etcd stopped
 * until every member has fenced itself and a lease could have expired. One
 * cluster for all of it, so the suite pays its start once; the last test
 * checks the whole run for overlaps.
 */
const LEASE_TTL = 5;
const INTERVAL = 1;
const MEMBERS = ['m1', 'm2', 'm3'];
/** Ticks of every input watched in the steady test. */
const STEADY_TICKS = 30;

const now = (): number => Date.now() / 1000;
const shared = (runs: Run[]): Run[] => runs.filter((run) => run.input !== 'local');

describe('cluster mode: replicas share inputs through etcd', { skip: etcdMissing() }, () => {
  let etcd: TestEtcd;
  // Before the fixture's folder is made: hooks run in the order they are registered, and the members must stop before it goes.
  after(async () => {
    await Promise.all(MEMBERS.map((name) => cluster.stop(name)));
    await etcd.close();
  });
  const cluster = new ClusterFixture({ etcd: () => etcd.url, shared: 30, leaseTtlSeconds: LEASE_TTL, executor: 'process' });

  before(async () => {
    etcd = await TestEtcd.start();
    const began = now();
    await Promise.all(MEMBERS.map((name) => cluster.start(name)));
    await cluster.settled((input) => ownerOf(input, MEMBERS)!, began);
  });

  it('runs each of 30 inputs once per interval in total, on the member rendezvous hashing picks, which the collector reads in PYTHOND_MEMBER; etcd hears only heartbeats', async () => {
    const requestsBefore = await etcd.requestsReceived();
    const from = now();
    const since = (runs: Run[]) => runs.filter((run) => run.start >= from);
    await waitFor(
      () => {
        const runs = since(cluster.runs());
        const count = (input: string, member?: string) => runs.filter((run) => run.input === input && (!member || run.member === member)).length;
        return cluster.inputs.every((input) => count(input) >= STEADY_TICKS) && MEMBERS.every((member) => count('local', member) >= STEADY_TICKS);
      },
      `every input to tick ${STEADY_TICKS} times`,
      (STEADY_TICKS + 30) * 1000,
      200,
    );
    const to = now();
    const steadyRate = ((await etcd.requestsReceived()) - requestsBefore) / (to - from);

    // As many due times as whole intervals fall in the window, give or take one at each edge.
    const due = (to - from) / INTERVAL;
    const window = cluster.runs().filter((run) => run.start >= from && run.start < to);
    for (const input of cluster.inputs) {
      const runs = window.filter((run) => run.input === input).sort((a, b) => a.start - b.start);
      assert.ok(runs.length >= Math.floor(due) - 1 && runs.length <= Math.ceil(due) + 1, `${input} ran ${runs.length} times in ${due.toFixed(1)} s`);
      assert.deepEqual(new Set(runs.map((run) => run.member)), new Set([ownerOf(input, MEMBERS)]), `${input} ran on its owner only`);
      const gaps = runs.slice(1).map((run, i) => run.start - runs[i]!.start);
      assert.ok(Math.min(...gaps) > INTERVAL / 2, `${input} ran twice within one interval: gaps ${gaps.map((g) => g.toFixed(2)).join(' ')}`);
    }
    const local = window.filter((run) => run.input === 'local');
    for (const member of MEMBERS) {
      const count = local.filter((run) => run.member === member).length;
      assert.ok(
        count >= Math.floor(due) - 1 && count <= Math.ceil(due) + 1,
        `the cluster = "each" input ran ${count} times on ${member} in ${due.toFixed(1)} s`,
      );
    }
    // Each member's heartbeat, every fifth of lease_ttl, and nothing per input or per tick: owners are watched, not polled.
    const heartbeats = (MEMBERS.length * 5) / LEASE_TTL;
    assert.ok(
      steadyRate >= heartbeats * 0.8 && steadyRate <= heartbeats * 1.2,
      `etcd received ${steadyRate.toFixed(2)} requests/s; heartbeats: ${heartbeats}/s`,
    );
  });

  it('shows the members, their heartbeats and the owners in /v1/cluster, the inputs run elsewhere in /v1/collectors, and counts them in /metrics', async () => {
    const m1 = cluster.members.get('m1')!;
    const status = await cluster.status('m1');
    assert.equal(status.state, 'member');
    assert.deepEqual(
      status.members.map((member) => member.member),
      MEMBERS,
    );
    for (const member of status.members) {
      assert.ok(Date.now() - Date.parse(member.lastHeartbeat!) < (LEASE_TTL + 2) * 1000, `${member.member}'s heartbeat is recent`);
      assert.equal(member.inputs, cluster.inputs.filter((input) => ownerOf(input, MEMBERS) === member.member).length);
    }
    assert.deepEqual(
      status.owners,
      cluster.inputs.map((input) => ({ input, owner: ownerOf(input, MEMBERS) })),
    );

    const { inputs } = (await (await fetch(`${m1.url}/v1/collectors`)).json()) as { inputs: InputReport[] };
    for (const input of cluster.inputs) {
      const shown = inputs.find((status) => status.input === input)!;
      const owner = ownerOf(input, MEMBERS);
      assert.equal(shown.owner, owner);
      assert.equal(shown.state, owner === 'm1' ? 'running' : 'standby', input);
    }
    assert.equal(inputs.find((status) => status.input === 'local')?.cluster, 'each');

    const metrics = await (await fetch(`${m1.url}/metrics`)).text();
    assert.match(metrics, /^pythond_cluster_members 3$/m);
    assert.match(metrics, new RegExp(`^pythond_cluster_owned_inputs ${status.members[0]!.inputs}$`, 'm'));
    assert.match(metrics, /^pythond_cluster_handoffs_total\{direction="in"\} \d+$/m);
    assert.match(metrics, /^pythond_cluster_transitions_total\{from="joining",to="member"\} 1$/m);
    assert.equal(((await (await fetch(`${m1.url}/healthz`)).json()) as { status: string }).status, 'ok');

    const { code, stdout } = await pythond(['status', '--url', m1.url]);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^cluster: member m1 is member, etcd ${etcd.url} prefix /pythond/default\n`, 'm'));
    for (const member of MEMBERS) assert.match(stdout, new RegExp(`^${member}( \\(this one\\))? +\\S+ ago +\\S+ ago +\\d+$`, 'm'));
    const elsewhere = cluster.inputs.find((input) => ownerOf(input, MEMBERS) !== 'm1')!;
    assert.match(stdout, new RegExp(`^${elsewhere} +- +standby .* runs on member ${ownerOf(elsewhere, MEMBERS)}$`, 'm'));
  });

  it('moves the inputs of a member killed with SIGKILL to the others within lease_ttl plus one interval, never running one twice at once', async () => {
    const survivors = ['m1', 'm2'];
    const victims = cluster.inputs.filter((input) => ownerOf(input, MEMBERS) === 'm3');
    const killedAt = now();
    cluster.members.get('m3')!.child.kill('SIGKILL');
    await cluster.settled((input) => ownerOf(input, survivors)!, killedAt);

    const runs = cluster.runs();
    const failover: number[] = [];
    for (const input of victims) {
      const first = runs.filter((run) => run.input === input && run.member !== 'm3' && run.start > killedAt).sort((a, b) => a.start - b.start)[0]!;
      assert.equal(first.member, ownerOf(input, survivors), `${input} went to the member rendezvous hashing picks among the survivors`);
      failover.push(first.start - killedAt);
    }
    // The lease expires lease_ttl after the member's last heartbeat (etcd notices within about 0.4 s more); the new
    // owner then starts a host (0.3 to 1.5 s here, dozens at once on two busy cores) and ticks at the input's next due
    // time, up to one interval later.
    assert.ok(Math.max(...failover) <= LEASE_TTL + INTERVAL + 3, `failover took up to ${Math.max(...failover).toFixed(2)} s`);
    assert.deepEqual(overlaps(shared(runs)), []);
  });

  it('gives about a third of the inputs to a member that joins, each handed over without overlap', async () => {
    const before = new Map(cluster.inputs.map((input) => [input, ownerOf(input, ['m1', 'm2'])!]));
    const joinedAt = now();
    await cluster.start('m3');
    await cluster.settled((input) => ownerOf(input, MEMBERS)!, joinedAt);

    const moved = cluster.inputs.filter((input) => ownerOf(input, MEMBERS) !== before.get(input));
    assert.ok(moved.length >= 5 && moved.length <= 15, `${moved.length} of 30 inputs moved`);
    assert.ok(
      moved.every((input) => ownerOf(input, MEMBERS) === 'm3'),
      'only inputs going to the new member moved',
    );
    const runs = cluster.runs();
    for (const input of moved) {
      const mine = runs.filter((run) => run.input === input).sort((a, b) => a.start - b.start);
      const first = mine.find((run) => run.member === 'm3' && run.start > joinedAt)!;
      const last = mine.filter((run) => run.member === before.get(input) && run.start < first.start).at(-1)!;
      assert.ok(last.end <= first.start, `${input}: ${last.member} ran until ${last.end}, m3 started at ${first.start}`);
    }
    assert.deepEqual(overlaps(shared(runs)), []);
  });

  it('stops every shared input before its lease can expire while etcd is away, says so, and resumes once it is back', async () => {
    const stoppedAt = now();
    await etcd.stop();
    // Every member fenced, and then, past the moment its lease could have expired, ticking its `each` input a few times:
    // long enough for any shared input still running to show.
    const expiredBy = stoppedAt + LEASE_TTL;
    await waitFor(
      async () => {
        const states = await Promise.all(MEMBERS.map(async (member) => (await cluster.status(member)).state));
        const ticked = (member: string) => cluster.runs().filter((run) => run.input === 'local' && run.member === member && run.start > expiredBy).length;
        return states.every((state) => state === 'fenced') && MEMBERS.every((member) => ticked(member) >= 3);
      },
      'every member fenced, and ticking its own input past the time its lease could have expired',
      (LEASE_TTL + 20) * 1000,
      200,
    );
    const backAt = now();
    await etcd.resume();
    await cluster.settled((input) => ownerOf(input, MEMBERS)!, backAt);

    const runs = cluster.runs();
    // A lease lives at most lease_ttl past its last renewal, which came before etcd stopped.
    const late = shared(runs).filter((run) => run.start < backAt && run.end > expiredBy);
    assert.deepEqual(late, [], 'shared inputs ran while their lease could have expired');
    for (const member of MEMBERS) {
      const log = cluster.members.get(member)!.log();
      assert.match(
        log,
        /etcd has not confirmed the lease of member m\d for [\d.]+ s \(lease_ttl 5 s\): stopping its \d+ shared input\(s\) before the lease can expire/,
      );
      assert.match(log, /etcd confirms the lease of member m\d again: resuming its inputs/);
      const metrics = await (await fetch(`${cluster.members.get(member)!.url}/metrics`)).text();
      assert.match(metrics, /^pythond_cluster_errors_total\{reason="fenced"\} [1-9]\d*$/m);
      assert.match(metrics, /^pythond_cluster_transitions_total\{from="fenced",to="member"\} [1-9]\d*$/m);
      assert.equal((await cluster.status(member)).state, 'member');
    }
  });

  it('never ran a shared input on two members at once, over the whole test', () => {
    assert.deepEqual(overlaps(shared(cluster.runs())), []);
  });
});
