import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { PLUGINS } from '../../src/plugins.js';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const composeFile = read('compose.yaml');
const fullFile = read('compose.full.yaml');
const clusterFile = read('compose.cluster.yaml');

/** A runner config of the compose files, read from its folder as the runner in the container reads it (../../python.d is python.d, there as here). */
function composeConfig(name: string) {
  const file = path.join(REPO_ROOT, 'docker/compose', name);
  return parseConfig(readFileSync(file, 'utf8'), file, path.dirname(file), PLUGINS);
}

/** The config file a compose file points the service's runner at. */
const configOf = (text: string): string | undefined => /\n {4,6}PYTHOND_CONFIG: \/etc\/pythond\/docker\/compose\/(\S+)\n/.exec(text)?.[1];

/** `key: value` lines of a service (indented by `indent`), comments cut: how it runs. */
function settings(text: string, indent: number, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, new RegExp(`\\n {${indent}}${key}: (.*?)\\s*(?:#.*)?\\n`).exec(text)?.[1] ?? '(missing)']));
}

const seconds = (text: string): number => Number(/^(\d+)s$/.exec(text)?.[1]);

describe('the compose files and their runner configs', () => {
  for (const [name, file, text] of [
    ['pythond.toml', 'compose.yaml', composeFile],
    ['pythond-full.toml', 'compose.full.yaml', fullFile],
    ['pythond-cluster.toml', 'compose.cluster.yaml', clusterFile],
  ] as const) {
    it(`${name} (${file}) is valid, listens on the port compose.yaml publishes and probes, and shuts down within the stop grace period`, () => {
      assert.equal(configOf(text), name, `${file} points the runner at ${name}`);
      const config = composeConfig(name);
      assert.equal(config.runner.executor, 'docker', 'the runner image has no Python to fall back to');
      assert.equal(config.runner.listen, '0.0.0.0:9529');
      assert.equal(config.runner.python_d, path.join(REPO_ROOT, 'python.d'));
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

  it('mounts the folders of the config and of the collectors, not files, where the config finds them, and declares only the data volume', () => {
    assert.match(composeFile, /\n {6}- \.\/docker\/compose:\/etc\/pythond\/docker\/compose:ro\n {6}- \.\/python\.d:\/etc\/pythond\/python\.d:ro\n/);
    assert.match(composeFile, /\nvolumes:\n {2}data:\n$/, 'a plain `up` creates the data volume only');
  });

  it("compose.cluster.yaml's replicas run as compose.yaml's runner does, each with a volume of its own, sharing the inputs through its etcd", () => {
    const config = composeConfig('pythond-cluster.toml');
    assert.deepEqual(config.cluster?.etcd, ['http://etcd:2379']);
    assert.ok(config.inputs.length > 1 && config.inputs.every((input) => input.cluster === 'one'));
    assert.match(clusterFile, /\n {2}etcd:\n {4}image: pythond-etcd:bookworm\n/);
    assert.match(clusterFile, /- --listen-client-urls=http:\/\/0\.0\.0\.0:2379\n/);
    const keys = ['image', 'test', 'restart', 'stop_grace_period', 'read_only', 'tmpfs', 'cap_drop', 'cap_add', 'security_opt'];
    const replica = clusterFile.slice(clusterFile.indexOf('x-replica:'), clusterFile.indexOf('\nservices:'));
    assert.deepEqual(
      settings(
        replica,
        2,
        keys.filter((key) => key !== 'test'),
      ),
      settings(
        composeFile,
        4,
        keys.filter((key) => key !== 'test'),
      ),
    );
    assert.equal(settings(replica, 4, ['test']).test, settings(composeFile, 6, ['test']).test, 'the same healthcheck');
    for (const [replica, volume] of [
      ['pythond-2', 'data-2'],
      ['pythond-3', 'data-3'],
    ]) {
      const block = new RegExp(
        `\\n {2}${replica}:\\n {4}<<: \\*replica\\n {4}volumes:\\n {6}- /var/run/docker\\.sock:/var/run/docker\\.sock\\n {6}- \\./docker/compose:/etc/pythond/docker/compose:ro\\n {6}- \\./python\\.d:/etc/pythond/python\\.d:ro\\n {6}- ${volume}:/var/lib/pythond\\n`,
      );
      assert.match(clusterFile, block, `${replica} runs the runner with the same folders and a volume of its own`);
    }
  });

  it('pythond-full.toml sends the points to the VictoriaMetrics of compose.full.yaml', () => {
    const influxdb = composeConfig('pythond-full.toml').outputs.find((output) => output.type === 'influxdb');
    assert.equal(influxdb?.type === 'influxdb' && influxdb.options.url, 'http://victoria-metrics:8428/');
    assert.match(fullFile, /\n {2}victoria-metrics:\n {4}image: pythond-victoria-metrics:bookworm\n/);
    assert.match(fullFile, /- -httpListenAddr=:8428\n/);
  });

  it("pythond-full.toml remote-writes the metrics to compose.full.yaml's Prometheus, which also scrapes its endpoint", () => {
    const outputs = composeConfig('pythond-full.toml').outputs;
    const remoteWrite = outputs.find((output) => output.type === 'prometheus_remote_write');
    assert.equal(remoteWrite?.options.url, 'http://prometheus:9090/api/v1/write');
    assert.match(fullFile, /- --web\.enable-remote-write-receiver/);
    const endpoint = outputs.find((output) => output.type === 'prometheus');
    assert.equal(endpoint?.options.listen, '0.0.0.0:9273');
    const scrapeConfig = readFileSync(path.join(REPO_ROOT, 'docker/compose/prometheus.yml'), 'utf8');
    assert.match(scrapeConfig, /- job_name: pythond-points\n {4}static_configs:\n {6}- targets: \["pythond:9273"\]/);
  });
});
