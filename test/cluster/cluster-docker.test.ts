import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { ownerOf } from '../../src/cluster/rendezvous.js';
import { ClusterFixture, overlaps } from '../helpers/cluster.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { etcdMissing, TestEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/fixtures.js';

const MEMBERS = ['d1', 'd2', 'd3'];
const now = (): number => Date.now() / 1000;

it('shares inputs between replicas with the docker executor: each container knows its member, and a replica killed with SIGKILL hands its inputs over without overlap', {
  skip: etcdMissing(),
  timeout: 5 * 60_000,
}, async (t) => {
  if (!(await requireDocker(t))) return;
  const etcd = await TestEtcd.start();
  let killed: string | undefined;
  // Registered before the fixture's folder is: hooks run in that order, and the members must stop before it goes.
  t.after(async () => {
    await Promise.all(MEMBERS.map((name) => cluster.stop(name)));
    await etcd.close();
    // The killed replica's containers, which only its next start would remove.
    for (const c of killed ? await docker.listContainers({ all: true, filters: { label: [`io.pythond.instance=${killed}`] } }) : [])
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
  });
  const cluster = new ClusterFixture({ etcd: () => etcd.url, shared: 6, leaseTtlSeconds: 5, executor: 'docker' });

  const began = now();
  await Promise.all(MEMBERS.map((name) => cluster.start(name)));
  await cluster.settled((input) => ownerOf(input, MEMBERS)!, began, 120_000);
  // A few ticks of every input from here on, each shared one on its owner alone, and the "each" one on every member.
  const watchFrom = now();
  const steadyRuns = () => cluster.runs().filter((run) => run.start >= watchFrom);
  await waitFor(
    () => {
      const runs = steadyRuns();
      return (
        cluster.inputs.every((input) => runs.filter((run) => run.input === input).length >= 3) &&
        MEMBERS.every((member) => runs.some((run) => run.input === 'local' && run.member === member))
      );
    },
    'every input to tick three times',
    60_000,
    200,
  );
  const steady = steadyRuns();
  for (const input of cluster.inputs)
    assert.deepEqual(new Set(steady.filter((run) => run.input === input).map((run) => run.member)), new Set([ownerOf(input, MEMBERS)]));
  for (const member of MEMBERS)
    assert.ok(
      steady.some((run) => run.input === 'local' && run.member === member),
      `the "each" input ran in a container of ${member}`,
    );

  const killedAt = now();
  killed = readFileSync(path.join(cluster.root, 'data-d3', 'instance-id'), 'utf8').trim();
  cluster.members.get('d3')!.child.kill('SIGKILL');
  await cluster.settled((input) => ownerOf(input, ['d1', 'd2'])!, killedAt, 60_000);
  assert.deepEqual(overlaps(cluster.runs().filter((run) => run.input !== 'local')), []);
});
