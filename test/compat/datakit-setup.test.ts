import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import type { CollectorsReport, ReloadResult } from '../../src/http/api-types.js';
import { pythond, startRunner } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { etcdMissing, TestEtcd } from '../helpers/etcd.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';

/**
 * A collector as DataKit's users write them: it tags a point with the name
 * of the machine it runs on, reports a point with a `host` of its own, and
 * one with ignore_global_tags.
 */
const IDENT = `
import socket

from datakit_framework import DataKitFramework


class Ident(DataKitFramework):
    name = 'ident'
    interval = 1

    def run(self):
        self.feed_metric(measurement='ident', tags={'seen': socket.gethostname()}, fields={'v': 1})
        self.report({'M': [{'measurement': 'own', 'tags': {'host': 'mysql-01'}, 'fields': {'v': 1}}]})
        self.report({'M': [{'measurement': 'bare', 'fields': {'v': 1}}], 'ignore_global_tags': True})
`;

const input = (name: string, mode: string, cluster: string) => `
[[inputs.pythond]]
name = "${name}"
dirs = ["ident"]
mode = "${mode}"
cluster = "${cluster}"
network = "none"
tags = { input = "${name}" }
`;

const config = (etcd: string, zone: string) => `
[runner]
executor = "docker"
listen = "127.0.0.1:0"

[cluster]
etcd = ["${etcd}"]
member = "m1"
lease_ttl = "2s"

[global_host_tags]
host = "__datakit_hostname"
zone = "${zone}"

[global_election_tags]
project = "p1"

${input('shared', 'warm', 'one')}

[[outputs.file]]
path = "data/points.jsonl"
`;

interface Point {
  measurement: string;
  tags: Record<string, string>;
  time: number;
}

it("moves a DataKit setup over: a conf.d tree beside other inputs' files, host and election tags, the machine's name in warm and fresh containers, live reloads", {
  skip: etcdMissing(),
  timeout: 4 * 60_000,
}, async (t) => {
  if (!(await requireDocker(t))) return;
  const etcd = await TestEtcd.start();
  t.after(() => etcd.close());
  const root = tempTree({
    'python.d/ident/ident.py': IDENT,
    'conf.d/host/cpu.conf': '[[inputs.cpu]]\npercpu = false\n',
    'conf.d/db/mysql.conf': '[inputs.mysql]\nhost = "localhost"\n',
    'conf.d/machine/warm.conf': input('warm', 'warm', 'each'),
    'conf.d/machine/per-tick/fresh.conf': input('fresh', 'fresh', 'each'),
  });
  const configFile = path.join(root, 'pythond.toml');
  writeFileSync(configFile, dedent(config(etcd.url, 'z1')));
  const env = { PYTHOND_HOSTNAME: '' };

  const validated = await pythond(['validate', '--config', configFile], { cwd: root, env, timeoutMs: 120_000 });
  assert.equal(validated.code, 0, validated.stderr);
  assert.equal(validated.stderr, '', 'nothing reported');
  for (const name of ['shared', 'warm', 'fresh']) assert.match(validated.stdout, new RegExp(`input ${name} \\(\\w+\\): 1 script\\(s\\), 1 collector\\(s\\)`));
  assert.match(validated.stdout, /conf\.d files with no \[\[inputs\.pythond\]\], left alone: conf\.d\/db\/mysql\.conf, conf\.d\/host\/cpu\.conf/);

  const runner = startRunner(['--config', configFile, '--log-format', 'json'], { cwd: root, env });
  t.after(() => runner.stop());
  const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
  const collectors = async () => (await (await fetch(`${url}/v1/collectors`)).json()) as CollectorsReport;
  const pointsFile = path.join(root, 'data/points.jsonl');
  const points = (): Point[] =>
    existsSync(pointsFile)
      ? readFileSync(pointsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Point)
      : [];
  const of = (input: string, measurement: string, since = 0) =>
    points().filter((point) => point.tags.input === input && point.measurement === measurement && point.time >= since);

  await waitFor(() => ['shared', 'warm', 'fresh'].every((name) => of(name, 'ident').length >= 3), 'three ticks of every input', 120_000, 200);
  const { runner: status, inputs } = await collectors();
  const host = status.host.name;
  assert.equal(status.host.from, 'os');
  assert.deepEqual(status.globalTags, { host: { host, zone: 'z1' }, election: { project: 'p1' } });
  assert.deepEqual(
    inputs.map((report) => [report.input, report.state]).sort(),
    [
      ['fresh', 'running'],
      ['shared', 'running'],
      ['warm', 'running'],
    ],
    "nothing failed, and DataKit's files are no inputs",
  );

  // Inputs of this machine: the host tags; the one a single member runs: the election tags instead.
  for (const name of ['warm', 'fresh']) {
    for (const point of of(name, 'ident')) assert.deepEqual(point.tags, { seen: host, input: name, host, zone: 'z1' }, `${name}: ${JSON.stringify(point)}`);
  }
  for (const point of of('shared', 'ident')) assert.deepEqual(point.tags, { seen: host, input: 'shared', project: 'p1' });
  // A point's own host wins; a report with ignore_global_tags gets its input's tags alone.
  assert.deepEqual(of('warm', 'own')[0]?.tags, { host: 'mysql-01', input: 'warm', zone: 'z1' });
  assert.deepEqual(of('fresh', 'bare')[0]?.tags, { input: 'fresh' });
  assert.deepEqual(of('shared', 'bare')[0]?.tags, { input: 'shared' });
  // DataKit's files were left alone, and said so once.
  const skipped = runner
    .log()
    .split('\n')
    .filter((line) => line.includes('conf.d: 2 file(s) with no [[inputs.pythond]]'));
  assert.equal(skipped.length, 1, runner.log());
  assert.match(skipped[0]!, /conf\.d\/db\/mysql\.conf, conf\.d\/host\/cpu\.conf/);

  // A new global tag value reaches the next points without new containers; a new conf.d file adds its input.
  const warmContainer = inputs.find((report) => report.input === 'warm')!.collectors[0]!.host;
  const changedAt = Date.now() * 1e6;
  writeFileSync(configFile, dedent(config(etcd.url, 'z2')));
  await waitFor(() => of('warm', 'ident', changedAt).some((point) => point.tags.zone === 'z2'), 'points with the new zone', 30_000, 200);
  mkdirSync(path.join(root, 'conf.d/later'));
  writeFileSync(path.join(root, 'conf.d/later/later.conf'), dedent(input('later', 'warm', 'each')));
  await waitFor(() => of('later', 'ident').length > 0, 'the input of the new conf.d file ticking', 60_000, 200);
  const after = await collectors();
  assert.equal(after.inputs.find((report) => report.input === 'warm')!.collectors[0]!.host, warmContainer, 'the warm input kept its container');
  assert.equal((after.runner.lastReload as ReloadResult).result, 'ok');
});
