import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { ClusterMember } from '../../src/cluster/cluster-member.js';
import { ownerOf } from '../../src/cluster/rendezvous.js';
import type { ClusterConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { etcdMissing, TestEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/fixtures.js';

const INPUTS = Array.from({ length: 12 }, (_, i) => `input-${i}`);
/** etcd's shortest lease: a heartbeat every 0.4 s, fenced 0.8 s before the lease could expire. */
const LEASE_TTL_MS = 2_000;

/** A member with the app's part played at once: it runs exactly what its member may run, and says so at once. */
function member(config: ClusterConfig, name: string) {
  const running = new Set<string>();
  const metrics = createMetrics('test');
  const cluster = new ClusterMember({ config, member: name, isRunning: (input) => running.has(input), log: silentLogger, metrics });
  const apply = () => {
    running.clear();
    for (const input of INPUTS) if (cluster.mayRun(input)) running.add(input);
    cluster.settled();
  };
  cluster.on('changed', apply);
  cluster.on('fence', apply);
  /** How often `metric` counted with these labels. */
  const counted = async (metric: 'clusterErrors' | 'clusterTransitions', labels: Record<string, string>) =>
    (await metrics[metric].get()).values
      .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key as keyof typeof value.labels] === label))
      .reduce((sum, value) => sum + value.value, 0);
  return { cluster, running, counted, start: () => cluster.start(INPUTS) };
}

/** Whether `members` run every input on the member rendezvous hashing picks among them, and nothing else. */
function placed(members: ReturnType<typeof member>[]): boolean {
  const names = members.map((m) => m.cluster.member);
  return (
    members.every((m) => m.cluster.state === 'member') &&
    INPUTS.every((input) => members.find((m) => m.cluster.member === ownerOf(input, names))!.running.has(input)) &&
    members.reduce((sum, m) => sum + m.running.size, 0) === INPUTS.length
  );
}

describe('a cluster member against a real etcd', { skip: etcdMissing(), timeout: 120_000 }, () => {
  let etcd: TestEtcd;
  let client: Etcd3;
  let prefixes = 0;
  /** A prefix of its own for each test: members of one test never see those of another. */
  const config = (): ClusterConfig => ({ etcd: [etcd.url], prefix: `/test/${++prefixes}`, lease_ttl: LEASE_TTL_MS });

  before(async () => {
    etcd = await TestEtcd.start();
    client = new Etcd3({ hosts: etcd.url });
  });
  after(async () => {
    client.close();
    await etcd.close();
  });

  it('joins, and shares the inputs with a second member as rendezvous hashing says', async () => {
    const shared = config();
    const [a, b] = [member(shared, 'a'), member(shared, 'b')];
    try {
      await a.start();
      await waitFor(() => a.running.size === INPUTS.length, 'a to run every input alone');
      await b.start();
      await waitFor(() => placed([a, b]), 'a and b to share the inputs');
      assert.equal(await a.counted('clusterTransitions', { from: 'joining', to: 'member' }), 1);
    } finally {
      await Promise.all([a.cluster.close(), b.cluster.close()]);
    }
    assert.equal(a.cluster.state, 'closed');
  });

  it('waits while its name is held by another lease, counting it, and joins once that one left', async () => {
    const shared = config();
    const [first, second] = [member(shared, 'same'), member(shared, 'same')];
    try {
      await first.start();
      await waitFor(() => placed([first]), 'the first to run every input');
      await second.start();
      await waitFor(async () => (await second.counted('clusterErrors', { reason: 'name_taken' })) >= 2, 'the second to retry');
      assert.equal(second.cluster.state, 'joining');
      assert.equal(second.running.size, 0);
      await first.cluster.close();
      await waitFor(() => placed([second]), 'the second to join and run every input');
    } finally {
      await Promise.all([first.cluster.close(), second.cluster.close()]);
    }
  });

  it('joins again under a new lease when etcd says its lease is gone, stopping its inputs meanwhile', async () => {
    const shared = config();
    const m = member(shared, 'm');
    try {
      await m.start();
      await waitFor(() => placed([m]), 'm to run every input');
      const key = await client.get(`${shared.prefix}/members/m`).exec();
      const lease = key.kvs[0]!.lease;
      await client.leaseClient.leaseRevoke({ ID: lease });
      await waitFor(async () => (await m.counted('clusterErrors', { reason: 'lease_expired' })) === 1, 'm to hear its lease is gone');
      await waitFor(() => placed([m]), 'm to run every input again');
      assert.notEqual((await client.get(`${shared.prefix}/members/m`).exec()).kvs[0]!.lease, lease);
      assert.equal(await m.counted('clusterTransitions', { from: 'member', to: 'fenced' }), 1);
      assert.equal(await m.counted('clusterTransitions', { from: 'fenced', to: 'member' }), 1);
    } finally {
      await m.cluster.close();
    }
  });

  it('registers again when its own key is deleted by hand, and runs on what it holds meanwhile', async () => {
    const shared = config();
    const m = member(shared, 'm');
    try {
      await m.start();
      await waitFor(() => placed([m]), 'm to run every input');
      await client.delete().key(`${shared.prefix}/members/m`);
      await waitFor(async () => (await client.get(`${shared.prefix}/members/m`).exec()).kvs.length === 1, 'm to register again');
      assert.ok(placed([m]));
      assert.equal(await m.counted('clusterTransitions', { to: 'fenced' }), 0);
    } finally {
      await m.cluster.close();
    }
  });

  // Last: it stops etcd.
  it('says it could not leave while etcd is away, counting it', async () => {
    const m = member(config(), 'm');
    await m.start();
    await waitFor(() => placed([m]), 'm to run every input');
    await etcd.stop();
    await m.cluster.close();
    assert.equal(await m.counted('clusterErrors', { reason: 'leave_failed' }), 1);
  });
});
