import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus } from '../../src/cluster/cluster-member.js';
import { startRunner } from '../helpers/cli.js';
import { etcdMissing, TestEtcd, type EtcdTls } from '../helpers/etcd.js';
import { dedent, freePort, tempTree, waitFor } from '../helpers/fixtures.js';

const PASSWORD = 's3cret-pythond-password';

const COLLECTOR = `
  import os
  from datakit_framework import DataKitFramework

  class Member(DataKitFramework):
      name = 'member'
      interval = 1

      def run(self):
          self.feed_metric(measurement='member', tags={'member': os.environ.get('PYTHOND_MEMBER', '')}, fields={'ok': 1})
`;

/** A CA, a server certificate for 127.0.0.1 and a client certificate for user `pythond`, made with openssl. */
function certificates(dir: string): EtcdTls & { clientCert: string; clientKey: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=pythond-test-ca');
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, subject, extensions] of [
    ['server', '/CN=etcd', ['-extfile', file('san.ext')]],
    ['client', '/CN=pythond', []],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.csr`), '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      file(`${name}.pem`),
      ...extensions,
    );
  }
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem'), clientCert: file('client.pem'), clientKey: file('client-key.pem') };
}

describe('cluster mode against an etcd with TLS, client certificates and users', { skip: etcdMissing(), timeout: 120_000 }, () => {
  let etcd: TestEtcd;
  let tls: ReturnType<typeof certificates>;
  const root = tempTree({ 'python.d/member/member.py': COLLECTOR });

  before(async () => {
    tls = certificates(root);
    etcd = await TestEtcd.start({ tls });
    // The user docs/cluster.md describes: read-write on the cluster's prefix, nothing else.
    for (const args of [
      ['user', 'add', 'root:root-password'],
      ['user', 'grant-role', 'root', 'root'],
      ['role', 'add', 'pythond'],
      ['role', 'grant-permission', 'pythond', '--prefix=true', 'readwrite', '/pythond/secure/'],
      ['user', 'add', `pythond:${PASSWORD}`],
      ['user', 'grant-role', 'pythond', 'pythond'],
      ['auth', 'enable'],
    ])
      etcd.etcdctl(args);
  });

  after(async () => {
    await etcd.close();
  });

  async function run(password: string) {
    const port = await freePort();
    const data = path.join(root, `data-${port}`);
    const config = path.join(root, `pythond-${port}.toml`);
    writeFileSync(
      config,
      dedent(`
        [runner]
        executor = "process"
        listen = "127.0.0.1:${port}"
        data_dir = "${data}"
        python_d = "${path.join(root, 'python.d')}"

        [cluster]
        etcd = ["${etcd.url}"]
        prefix = "/pythond/secure"
        member = "secure-${port}"
        lease_ttl = "5s"
        tls_ca = "${tls.ca}"
        tls_cert = "${tls.clientCert}"
        tls_key = "${tls.clientKey}"
        username = "pythond"
        password = "${password}"

        [[inputs.pythond]]
        name = "shared"
        dirs = ["member"]

        [[outputs.file]]
        path = "${path.join(data, 'points.jsonl')}"
      `),
    );
    const runner = startRunner(['--config', config]);
    const url = `http://127.0.0.1:${port}`;
    const cluster = async () => (await fetch(`${url}/v1/cluster`).catch(() => undefined))?.json() as Promise<ClusterStatus | undefined>;
    return { ...runner, url, cluster, points: path.join(data, 'points.jsonl') };
  }

  it('joins with the TLS keys, a client certificate and a user, and runs the shared input telling it its member', async () => {
    const runner = await run(PASSWORD);
    try {
      await waitFor(() => existsSync(runner.points) && readFileSync(runner.points, 'utf8').includes('"member"'), 'a point of the shared input', 30_000);
      const point = JSON.parse(readFileSync(runner.points, 'utf8').split('\n')[0]!) as { tags: { member: string } };
      const status = (await runner.cluster())!;
      assert.equal(status.state, 'member');
      assert.equal(point.tags.member, status.member);
      assert.deepEqual(status.owners, [{ input: 'shared', owner: status.member }]);
      assert.deepEqual(
        status.members.map((member) => member.member),
        [status.member],
      );
      const collectors = await (await fetch(`${runner.url}/v1/collectors`)).text();
      for (const text of [runner.log(), JSON.stringify(status), collectors]) assert.ok(!text.includes(PASSWORD), 'the etcd password shows nowhere');
    } finally {
      runner.child.kill('SIGTERM');
      await new Promise((resolve) => runner.child.once('exit', resolve));
    }
  });

  it('with a wrong password, says etcd refused it, and runs no shared input', async () => {
    const runner = await run('wrong-password');
    try {
      await waitFor(() => /cluster: etcd https:\/\/127\.0\.0\.1:\d+: .*authentication failed.*; retrying/.test(runner.log()), 'the refusal in the log', 30_000);
      const status = (await runner.cluster())!;
      assert.equal(status.state, 'joining');
      assert.match(status.lastError ?? '', /authentication failed/);
      assert.ok(!existsSync(runner.points) || readFileSync(runner.points, 'utf8') === '', 'no point of the shared input');
      assert.ok(!runner.log().includes('wrong-password'));
    } finally {
      runner.child.kill('SIGTERM');
      await new Promise((resolve) => runner.child.once('exit', resolve));
    }
  });
});
