import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { PLUGINS } from '../../src/plugins.js';

const composeFile = readFileSync(path.join(REPO_ROOT, 'compose.yaml'), 'utf8');

/** A runner config of compose.yaml, read as the runner in the container reads it (python.d beside it). */
function composeConfig(name: string) {
  const file = path.join('docker/compose', name);
  return parseConfig(readFileSync(path.join(REPO_ROOT, file), 'utf8'), file, REPO_ROOT, PLUGINS);
}

const seconds = (text: string): number => Number(/^(\d+)s$/.exec(text)?.[1]);

describe('the runner configs of compose.yaml', () => {
  for (const name of ['pythond.toml', 'pythond-full.toml', 'pythond-cluster.toml']) {
    it(`${name} is valid, listens on the port compose.yaml publishes and probes, and shuts down within the stop grace period`, () => {
      const config = composeConfig(name);
      assert.equal(config.runner.executor, 'docker', 'the runner image has no Python to fall back to');
      assert.equal(config.runner.listen, '0.0.0.0:9529');
      assert.match(composeFile, /- "127\.0\.0\.1:\$\{PYTHOND_PORT:-9529\}:9529"/);
      assert.match(composeFile, /http:\/\/127\.0\.0\.1:9529\/healthz/);
      assert.equal(config.runner.data_dir, '/var/lib/pythond');
      assert.match(composeFile, /- data:\/var\/lib\/pythond\n/);
      const grace = seconds(/stop_grace_period: (\S+)/.exec(composeFile)![1]!);
      // Ticks in flight get shutdown_timeout, then hosts get up to 5 s to stop, then outputs flush.
      assert.ok(
        config.runner.shutdown_timeout / 1000 + 10 <= grace,
        `shutdown_timeout ${config.runner.shutdown_timeout / 1000} s + 10 s within stop_grace_period ${grace} s`,
      );
    });
  }

  it("pythond-cluster.toml shares its inputs through the cluster profile's etcd, between replicas with a data volume each", () => {
    const config = composeConfig('pythond-cluster.toml');
    assert.deepEqual(config.cluster?.etcd, ['http://etcd:2379']);
    assert.ok(config.inputs.length > 1 && config.inputs.every((input) => input.cluster === 'one'));
    assert.match(composeFile, /\n {2}etcd:\n {4}profiles: \[cluster\]\n {4}image: pythond-etcd:bookworm\n/);
    assert.match(composeFile, /- --listen-client-urls=http:\/\/0\.0\.0\.0:2379\n/);
    for (const [replica, volume] of [
      ['pythond-2', 'data-2'],
      ['pythond-3', 'data-3'],
    ]) {
      const block = new RegExp(
        `\\n {2}${replica}:\\n {4}<<: \\*runner\\n {4}profiles: \\[cluster\\]\\n {4}volumes:\\n(?: {6}- .*\\n)*? {6}- ${volume}:/var/lib/pythond\\n`,
      );
      assert.match(composeFile, block, `${replica} runs the runner with a volume of its own`);
      assert.match(
        composeFile,
        new RegExp(`\\n {6}- \\./docker/compose/pythond-cluster\\.toml:/etc/pythond/pythond\\.toml:ro\\n(?: {6}- .*\\n)*? {6}- ${volume}:`),
      );
    }
  });

  it('pythond-full.toml sends the points to the VictoriaMetrics of the full profile', () => {
    const influxdb = composeConfig('pythond-full.toml').outputs.find((output) => output.type === 'influxdb');
    assert.equal(influxdb?.type === 'influxdb' && influxdb.options.url, 'http://victoria-metrics:8428/');
    assert.match(composeFile, /\n {2}victoria-metrics:\n {4}profiles: \[full\]\n/);
    assert.match(composeFile, /- -httpListenAddr=:8428\n/);
  });

  it("pythond-full.toml remote-writes the metrics to the full profile's Prometheus, which also scrapes its endpoint", () => {
    const outputs = composeConfig('pythond-full.toml').outputs;
    const remoteWrite = outputs.find((output) => output.type === 'prometheus_remote_write');
    assert.equal(remoteWrite?.options.url, 'http://prometheus:9090/api/v1/write');
    assert.match(composeFile, /- --web\.enable-remote-write-receiver/);
    const endpoint = outputs.find((output) => output.type === 'prometheus');
    assert.equal(endpoint?.options.listen, '0.0.0.0:9273');
    const scrapeConfig = readFileSync(path.join(REPO_ROOT, 'docker/compose/prometheus.yml'), 'utf8');
    assert.match(scrapeConfig, /- job_name: pythond-points\n {4}static_configs:\n {6}- targets: \["pythond:9273"\]/);
  });
});
