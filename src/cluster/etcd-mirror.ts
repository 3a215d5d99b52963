import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';

/** What the mirror keeps of a key: its value, its lease, and the revision it was written at. */
export interface Entry {
  value: string;
  lease: string;
  revision: number;
}

export interface EtcdMirrorEvents {
  /** A key changed (the watch told): the members or the owners are not what they were. */
  changed: [];
  /** etcd cancelled the watch (its revision compacted away while disconnected): the mirror is stale until read again. */
  lost: [];
}

/**
 * The cluster's keys as this member knows them: `<prefix>/members/<member>`
 * and `<prefix>/owners/<input>`, each with its value, lease and revision,
 * read once and then followed through a watch from the revision read. A
 * change older than what the mirror holds (a transaction of this member
 * told it first) is ignored.
 */
export class EtcdMirror extends EventEmitter<EtcdMirrorEvents> {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #membersPrefix: string;
  readonly #ownersPrefix: string;
  readonly #members = new Map<string, Entry>();
  readonly #owners = new Map<string, Entry>();
  #watcher: Watcher | undefined;

  constructor(client: Etcd3, prefix: string) {
    super();
    this.#client = client;
    this.#prefix = `${prefix}/`;
    this.#membersPrefix = `${prefix}/members/`;
    this.#ownersPrefix = `${prefix}/owners/`;
  }

  /** Live members by name. */
  get members(): ReadonlyMap<string, Entry> {
    return this.#members;
  }

  /** Held inputs by name; the value is the member holding it. */
  get owners(): ReadonlyMap<string, Entry> {
    return this.#owners;
  }

  memberKey(member: string): string {
    return this.#membersPrefix + member;
  }

  ownerKey(input: string): string {
    return this.#ownersPrefix + input;
  }

  /** Reads every member and owner, then watches for changes from the revision read. */
  async read(): Promise<void> {
    this.close(); // the watch of an earlier read
    const answer = await this.#client.getAll().prefix(this.#prefix).exec();
    this.#members.clear();
    this.#owners.clear();
    for (const kv of answer.kvs) this.#put(kv.key.toString(), { value: kv.value.toString(), lease: String(kv.lease), revision: Number(kv.mod_revision) });
    const watcher = this.#client
      .watch()
      .prefix(this.#prefix)
      .startRevision(String(Number(answer.header.revision) + 1))
      .watcher();
    watcher.on('put', (kv) => {
      if (this.#put(kv.key.toString(), { value: kv.value.toString(), lease: String(kv.lease), revision: Number(kv.mod_revision) })) this.emit('changed');
    });
    watcher.on('delete', (kv) => {
      if (this.#delete(kv)) this.emit('changed');
    });
    watcher.on('error', () => {
      if (this.#watcher !== watcher) return;
      this.close();
      this.emit('lost');
    });
    this.#watcher = watcher;
  }

  /** This member's key, as its transaction wrote or found it. */
  putMember(member: string, entry: Entry): void {
    this.#put(this.memberKey(member), entry);
  }

  /** An input's key this member's transaction created. */
  putOwner(input: string, entry: Entry): void {
    this.#put(this.ownerKey(input), entry);
  }

  /** An input's key this member deleted: forgotten, unless another lease holds it by now (the watch told first). */
  forgetOwner(input: string, lease: string): void {
    if (this.#owners.get(input)?.lease === lease) this.#owners.delete(input);
  }

  /** Cancels the watch without waiting: a watch etcd never confirmed (etcd away, access refused) would never say it ended. */
  close(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.removeAllListeners();
    watcher?.on('error', () => {});
    void watcher?.cancel().catch(() => {});
  }

  #mapOf(key: string): [Map<string, Entry>, string] | undefined {
    if (key.startsWith(this.#membersPrefix)) return [this.#members, key.slice(this.#membersPrefix.length)];
    if (key.startsWith(this.#ownersPrefix)) return [this.#owners, key.slice(this.#ownersPrefix.length)];
    return undefined;
  }

  /** False when the key is not the cluster's, or the mirror knows a later write of it. */
  #put(key: string, entry: Entry): boolean {
    const at = this.#mapOf(key);
    if (!at) return false;
    const [map, name] = at;
    if ((map.get(name)?.revision ?? 0) >= entry.revision) return false;
    map.set(name, entry);
    return true;
  }

  /** False when the key is not the cluster's, or the mirror knows a later write of it. */
  #delete(kv: IKeyValue): boolean {
    const at = this.#mapOf(kv.key.toString());
    if (!at) return false;
    const [map, name] = at;
    if ((map.get(name)?.revision ?? 0) >= Number(kv.mod_revision)) return false;
    return map.delete(name);
  }
}
