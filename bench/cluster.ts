import { ClusterMember } from '../src/cluster/cluster-member.js';
import { ownerOf } from '../src/cluster/rendezvous.js';
import type { ClusterConfig } from '../src/config/load.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { etcdMissing, TestEtcd } from '../test/helpers/etcd.js';
import type { Figure } from './stats.js';

/**
 * What cluster mode asks of etcd, at 30 and at 1,000 shared inputs: three
 * members coordinating through a real etcd (Debian's, on loopback), each
 * with an app that starts and stops at once what its member may run (the
 * collectors do nothing, so only the coordination is measured). Requests
 * are every gRPC message etcd receives (unary calls and stream messages:
 * keep-alives, watch requests), read from its /metrics.
 */
export async function clusterFigures(quick: boolean): Promise<Figure[]> {
  if (etcdMissing()) return [];
  const figures: Figure[] = [];
  for (const inputs of [30, 1000]) figures.push(...(await measure(inputs, quick ? 10 : 30)));
  return figures;
}

/** A member with the app's part played at once: it runs exactly what its member may run. */
function member(config: ClusterConfig, name: string, inputs: string[]) {
  const running = new Set<string>();
  const cluster = new ClusterMember({ config, member: name, isRunning: (input) => running.has(input), log: silentLogger, metrics: createMetrics('bench') });
  const apply = () => {
    running.clear();
    for (const input of inputs) if (cluster.mayRun(input)) running.add(input);
    cluster.settled();
  };
  cluster.on('changed', apply);
  cluster.on('fence', apply);
  return { cluster, running, start: () => cluster.start(inputs) };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const began = performance.now();
  while (!check()) {
    if (performance.now() - began > timeoutMs) throw new Error('the members did not settle');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function measure(count: number, steadySeconds: number): Promise<Figure[]> {
  const etcd = await TestEtcd.start();
  const config: ClusterConfig = { etcd: [etcd.url], prefix: '/pythond/bench', lease_ttl: 10_000 };
  const inputs = Array.from({ length: count }, (_, i) => `input-${i}`);
  const names = ['m1', 'm2', 'm3'];
  const members = names.map((name) => member(config, name, inputs));
  const placed = (among: string[], all: typeof members) =>
    inputs.every((input) => all.find((m) => m.cluster.member === ownerOf(input, among))?.running.has(input)) &&
    all.reduce((sum, m) => sum + m.running.size, 0) === count;
  try {
    const before = await etcd.requestsReceived();
    const startBegan = performance.now();
    await Promise.all(members.map((m) => m.start()));
    await until(() => placed(names, members), 60_000);
    const startMs = performance.now() - startBegan;
    const started = await etcd.requestsReceived();

    const from = performance.now();
    await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
    const steady = ((await etcd.requestsReceived()) - started) / ((performance.now() - from) / 1000);

    const joiner = member(config, 'm4', inputs);
    const all = [...members, joiner];
    const joinAt = await etcd.requestsReceived();
    const joinBegan = performance.now();
    await joiner.start();
    await until(() => placed([...names, 'm4'], all), 60_000);
    const joinMs = performance.now() - joinBegan;
    const joinRequests = (await etcd.requestsReceived()) - joinAt;
    const moved = joiner.running.size;
    await Promise.all(all.map((m) => m.cluster.close()));
    return [
      { name: `cluster, ${count} inputs: etcd requests/s, 3 members steady (lease_ttl 10 s)`, value: steady, unit: 'req/s' },
      { name: `cluster, ${count} inputs: etcd requests for 3 members to start and place them`, value: started - before, unit: 'requests' },
      { name: `cluster, ${count} inputs: time for 3 members to place them`, value: startMs, unit: 'ms' },
      { name: `cluster, ${count} inputs: a 4th member joins, ${moved} inputs move; etcd requests`, value: joinRequests, unit: 'requests' },
      { name: `cluster, ${count} inputs: a 4th member joins; time until every moved input runs there`, value: joinMs, unit: 'ms' },
    ];
  } finally {
    await etcd.close();
  }
}
