import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdMirror } from '../../src/cluster/etcd-mirror.js';
import { etcdMissing, TestEtcd } from '../helpers/etcd.js';
import { waitFor, within } from '../helpers/fixtures.js';

/** A key as etcd's watch and range answers carry it. */
function kv(key: string, value: string, lease: string, revision: number) {
  return { key: Buffer.from(key), value: Buffer.from(value), lease, mod_revision: String(revision) };
}

class FakeWatcher extends EventEmitter {
  cancelled = false;
  async cancel(): Promise<void> {
    this.cancelled = true;
  }
}

/** The part of the etcd client the mirror uses: a range read answering `kvs` at `revision`, and watches the test drives. */
function fakeEtcd(kvs: ReturnType<typeof kv>[], revision: number) {
  const watches: { prefix: string; from: string; watcher: FakeWatcher }[] = [];
  const client = {
    getAll: () => ({ prefix: () => ({ exec: async () => ({ kvs, header: { revision: String(revision) } }) }) }),
    watch: () => ({
      prefix: (prefix: string) => ({
        startRevision: (from: string) => ({
          watcher: () => {
            const watcher = new FakeWatcher();
            watches.push({ prefix, from, watcher });
            return watcher;
          },
        }),
      }),
    }),
  };
  return { client: client as unknown as Etcd3, watches };
}

describe('the etcd mirror', () => {
  it('reads the members and owners under its prefix, and watches from the revision after the one read', async () => {
    const { client, watches } = fakeEtcd([kv('/p/members/m1', '{}', '11', 3), kv('/p/owners/in1', 'm1', '11', 4), kv('/p/other', 'x', '0', 5)], 7);
    const mirror = new EtcdMirror(client, '/p');
    await mirror.read();
    assert.deepEqual([...mirror.members], [['m1', { value: '{}', lease: '11', revision: 3 }]]);
    assert.deepEqual([...mirror.owners], [['in1', { value: 'm1', lease: '11', revision: 4 }]]);
    assert.deepEqual(
      watches.map(({ prefix, from }) => ({ prefix, from })),
      [{ prefix: '/p/', from: '8' }],
    );
  });

  it('follows what the watch says, and ignores what is older than what a transaction of its member told it', async () => {
    const { client, watches } = fakeEtcd([], 7);
    const mirror = new EtcdMirror(client, '/p');
    await mirror.read();
    let changes = 0;
    mirror.on('changed', () => changes++);
    const watcher = watches[0]!.watcher;
    mirror.putOwner('in1', { value: 'm1', lease: '11', revision: 9 });
    watcher.emit('put', kv('/p/owners/in1', 'm1', '11', 9)); // our own take, told by the watch after the transaction
    watcher.emit('delete', kv('/p/owners/in1', '', '0', 8)); // older than our take
    assert.equal(mirror.owners.get('in1')?.revision, 9);
    assert.equal(changes, 0);
    watcher.emit('put', kv('/p/members/m2', '{}', '12', 10));
    watcher.emit('delete', kv('/p/owners/in1', '', '0', 11));
    assert.deepEqual([...mirror.members.keys()], ['m2']);
    assert.equal(mirror.owners.has('in1'), false);
    assert.equal(changes, 2);
  });

  it('forgets a key its member deleted only while its member still holds it', async () => {
    const { client, watches } = fakeEtcd([kv('/p/owners/in1', 'm1', '11', 3), kv('/p/owners/in2', 'm1', '11', 3)], 3);
    const mirror = new EtcdMirror(client, '/p');
    await mirror.read();
    watches[0]!.watcher.emit('put', kv('/p/owners/in2', 'm2', '12', 5)); // taken over before our delete's answer came
    mirror.forgetOwner('in1', '11');
    mirror.forgetOwner('in2', '11');
    assert.deepEqual([...mirror.owners], [['in2', { value: 'm2', lease: '12', revision: 5 }]]);
  });

  it('says it is lost when etcd cancels its watch, and reads everything again on the next read', async () => {
    const { client, watches } = fakeEtcd([kv('/p/members/m1', '{}', '11', 3)], 3);
    const mirror = new EtcdMirror(client, '/p');
    await mirror.read();
    const lost = once(mirror, 'lost');
    watches[0]!.watcher.emit('error', new Error('Watcher canceled: mvcc: required revision has been compacted'));
    await within(lost, 1_000, 'the mirror to say it is lost');
    assert.equal(watches[0]!.watcher.cancelled, true);
    await mirror.read();
    assert.equal(watches.length, 2);
    assert.deepEqual([...mirror.members.keys()], ['m1']);
    // The old watch says nothing any more.
    let changes = 0;
    mirror.on('changed', () => changes++);
    watches[0]!.watcher.emit('put', kv('/p/members/m9', '{}', '19', 20));
    assert.equal(changes, 0);
    mirror.close();
    assert.equal(watches[1]!.watcher.cancelled, true);
  });

  describe('against a real etcd', { skip: etcdMissing() }, () => {
    let etcd: TestEtcd;
    let client: Etcd3;
    before(async () => {
      etcd = await TestEtcd.start();
      client = new Etcd3({ hosts: etcd.url });
    });
    after(async () => {
      client.close();
      await etcd.close();
    });

    it('reads the keys there are, then follows later writes through its watch', async () => {
      await client.put('/q/members/m1').value('{}');
      await client.put('/q/owners/in1').value('m1');
      const mirror = new EtcdMirror(client, '/q');
      try {
        await mirror.read();
        assert.deepEqual([...mirror.owners.keys()], ['in1']);
        await client.put('/q/members/m2').value('{}');
        await client.delete().key('/q/owners/in1');
        await client.put('/q/owners/in2').value('m2');
        await waitFor(() => mirror.members.has('m2') && !mirror.owners.has('in1') && mirror.owners.get('in2')?.value === 'm2', 'the watch to bring the writes');
      } finally {
        mirror.close();
      }
    });
  });
});
