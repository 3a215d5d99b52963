import { EventEmitter } from 'node:events';
import { EtcdLeaseInvalidError, type Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { Backoff } from '../backoff.js';
import type { ClusterConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { connectEtcd } from './etcd-client.js';
import { leaseTiming, MemberLease } from './member-lease.js';
import { ownerOf } from './rendezvous.js';

export interface ClusterMemberEvents {
  /** The inputs this member may run changed (it took some, or gives some up): run exactly those that mayRun() allows. */
  changed: [];
  /** etcd has not confirmed this member's lease for too long: stop every shared input now, ticks in flight within `graceMs`. */
  fence: [graceMs: number];
}

/** A member as GET /v1/cluster shows it. */
export interface MemberStatus {
  member: string;
  /** When it joined (its own clock). */
  since?: string;
  /** When etcd last renewed its lease (to the second: etcd counts TTLs in seconds). */
  lastHeartbeat?: string;
  /** Shared inputs it holds. */
  inputs: number;
}

/** This member's view of the cluster, for GET /v1/cluster. */
export interface ClusterStatus {
  member: string;
  /** `joining`: not registered in etcd yet; `member`: running its share; `fenced`: its inputs stopped until etcd answers. */
  state: 'joining' | 'member' | 'fenced';
  etcd: string[];
  prefix: string;
  leaseTtlMs: number;
  members: MemberStatus[];
  /** Every shared input with the member holding it (none while it moves). */
  owners: { input: string; owner?: string }[];
  /** The last etcd error, while etcd does not answer. */
  lastError?: string;
}

/** What the cluster keeps of a key: its value, its lease, and the revision it was written at. */
interface Entry {
  value: string;
  lease: string;
  revision: number;
}

/** etcd requests run at once when many inputs change hands (a member's first start with 1,000 inputs). */
const PARALLEL_REQUESTS = 16;

async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * This runner as a member of a cluster of replicas sharing inputs through
 * etcd. Under `<prefix>/members/<member>` it registers itself, and under
 * `<prefix>/owners/<input>` it holds the inputs it runs, both bound to its
 * lease. Each input belongs to the member rendezvous hashing picks among
 * the live members; the member it belongs to takes its key once free (a
 * transaction that creates it only if absent), and the member holding it
 * while it belongs elsewhere stops it first and deletes the key after
 * (`settled`). An input is run only while its key is held, and when etcd
 * stops confirming the lease this member stops everything before the lease
 * can have expired (`fence`), so no two members run an input at once.
 */
export class ClusterMember extends EventEmitter<ClusterMemberEvents> {
  readonly member: string;
  readonly #config: ClusterConfig;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  /** Keys and the watch. */
  readonly #client: Etcd3;
  /**
   * The lease's own connection: the client resets every channel of a
   * connection when one of its calls fails, so a watch or a request that
   * fails (etcd restarting) would cut the keep-alives too, and those must
   * resume first.
   */
  readonly #leaseClient: Etcd3;
  readonly #membersPrefix: string;
  readonly #ownersPrefix: string;
  readonly #backoff: Backoff;
  #lease: MemberLease | undefined;
  #watcher: Watcher | undefined;
  readonly #members = new Map<string, Entry>();
  readonly #owners = new Map<string, Entry>();
  /** The shared inputs of the config: the ones to place. */
  #inputs = new Set<string>();
  /** Held inputs that belong elsewhere now: the app stops them, then their keys are deleted. */
  readonly #releasing = new Set<string>();
  /** Whether the app runs an input now: a key is given up only once it does not. */
  readonly #isRunning: (input: string) => boolean;
  /** The last placement (#mine): for which members and inputs, and what it gave this member. */
  #placed: { members: string; inputs: Set<string>; mine: Set<string> } | undefined;
  #registered = false;
  #synced = false;
  #fenced = false;
  #joining = true;
  #closed = false;
  #dirty = false;
  #pumping: Promise<void> | undefined;
  #pumpRunning = false;
  #retry: NodeJS.Timeout | undefined;
  #lastError: string | undefined;

  constructor(options: { config: ClusterConfig; member: string; isRunning: (input: string) => boolean; log: Logger; metrics: Metrics }) {
    super();
    this.member = options.member;
    this.#isRunning = options.isRunning;
    this.#config = options.config;
    this.#log = options.log.child({ component: 'cluster' });
    this.#metrics = options.metrics;
    const heartbeatMs = options.config.lease_ttl / 5;
    const timing = { requestTimeoutMs: Math.max(heartbeatMs, 1_000), reconnectMs: heartbeatMs };
    this.#client = connectEtcd(options.config, timing);
    this.#leaseClient = connectEtcd(options.config, timing);
    this.#membersPrefix = `${options.config.prefix}/members/`;
    this.#ownersPrefix = `${options.config.prefix}/owners/`;
    this.#backoff = new Backoff({ firstMs: 250, maxMs: heartbeatMs, jitter: true });
  }

  /**
   * Joins with `inputs` (the config's shared inputs) to place; resolves once
   * the first attempt is over, joined or not: without etcd, the member keeps
   * trying in the background and runs no shared input meanwhile.
   */
  async start(inputs: Iterable<string>): Promise<void> {
    this.#inputs = new Set(inputs);
    this.#log.info(`cluster: joining as member ${this.member} through etcd ${this.#config.etcd.join(', ')} (prefix ${this.#config.prefix})`);
    this.#kick();
    await this.#pumping;
  }

  /** The shared inputs of a config just loaded. */
  setInputs(inputs: Iterable<string>): void {
    this.#inputs = new Set(inputs);
    this.#kick();
  }

  /** Whether this member may run `input` now: it holds its key, does not give it up, and etcd confirms its lease. */
  mayRun(input: string): boolean {
    return !this.#fenced && this.#lease?.certain === true && this.#holds(input) && !this.#releasing.has(input);
  }

  /** The member holding `input`'s key, as this member last heard. */
  ownerOf(input: string): string | undefined {
    return this.#owners.get(input)?.value;
  }

  /** How long a tick in flight of a shared input may finish when it stops: its share of the fence lead. */
  get stopGraceMs(): number {
    return leaseTiming(this.#lease?.ttlMs ?? this.#config.lease_ttl).stopGraceMs;
  }

  /** `joining` until registered in etcd, `fenced` while its shared inputs are stopped because etcd does not confirm its lease. */
  get state(): ClusterStatus['state'] {
    return this.#fenced ? 'fenced' : this.#joining ? 'joining' : 'member';
  }

  /** The last etcd error, while etcd does not answer. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The app has applied what mayRun() allows: the keys of the inputs it stopped can go. */
  settled(): void {
    if ([...this.#releasing].some((input) => !this.#isRunning(input))) this.#kick();
  }

  async status(): Promise<ClusterStatus> {
    const held = new Map<string, number>();
    for (const { value } of this.#owners.values()) held.set(value, (held.get(value) ?? 0) + 1);
    const members = await Promise.all(
      [...this.#members].map(async ([member, entry]): Promise<MemberStatus> => {
        let since: string | undefined;
        try {
          since = (JSON.parse(entry.value) as { since?: string }).since;
        } catch {
          // written by something else than pythond: no start time to show
        }
        return { member, since, lastHeartbeat: await this.#lastHeartbeat(entry.lease), inputs: held.get(member) ?? 0 };
      }),
    );
    return {
      member: this.member,
      state: this.state,
      etcd: this.#config.etcd,
      prefix: this.#config.prefix,
      leaseTtlMs: this.#lease?.ttlMs ?? this.#config.lease_ttl,
      members: members.sort((a, b) => a.member.localeCompare(b.member)),
      owners: [...this.#inputs].sort().map((input) => ({ input, owner: this.#owners.get(input)?.value })),
      lastError: this.#lastError,
    };
  }

  /** Leaves: revokes the lease, which deletes this member's key and its inputs' keys at once. Call once its inputs have stopped. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#pumping;
    this.#dropWatcher();
    try {
      await this.#lease?.revoke();
      this.#log.info(`cluster: member ${this.member} left; its inputs go to the other members now`);
    } catch (err) {
      this.#log.warn(
        `cluster: could not revoke the lease of member ${this.member} (${errorMessage(err)}); the other members take its inputs over once it expires`,
      );
    }
    this.#client.close();
    this.#leaseClient.close();
  }

  /** Asks for a pass over the cluster's state: now, or after `delayMs` (a retry). */
  #kick(delayMs = 0): void {
    if (this.#closed) return;
    if (delayMs > 0) {
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, delayMs);
      return;
    }
    this.#dirty = true;
    if (this.#pumpRunning) return;
    this.#pumpRunning = true;
    this.#pumping = this.#pump();
  }

  /**
   * One pass at a time; a kick during a pass asks for another. The flag is
   * cleared in the same step as the last look at `#dirty`, so no kick falls
   * between them and goes unanswered.
   */
  async #pump(): Promise<void> {
    try {
      while (this.#dirty && !this.#closed) {
        this.#dirty = false;
        await this.#tryPass();
      }
    } finally {
      this.#pumpRunning = false;
    }
  }

  async #tryPass(): Promise<void> {
    try {
      await this.#pass();
      this.#backoff.succeeded();
      if (this.#lastError !== undefined) {
        this.#log.info(`cluster: etcd answers again (${this.#config.etcd.join(', ')})`);
        this.#lastError = undefined;
      }
    } catch (err) {
      // A request under a lease etcd no longer has: the lease expired while this member could not renew it.
      if (err instanceof EtcdLeaseInvalidError && this.#lease) this.#expired(this.#lease);
      const wait = this.#backoff.failed();
      const message = errorMessage(err);
      if (message !== this.#lastError) this.#log.error(`cluster: etcd ${this.#config.etcd.join(', ')}: ${message}; retrying`);
      this.#lastError = message;
      this.#kick(wait);
    }
  }

  /** Brings this member in line with etcd: a lease, its registration, the state read and watched, then its share of the inputs. */
  async #pass(): Promise<void> {
    const lease = this.#lease ?? (await this.#grant());
    if (!this.#registered && !(await this.#register(lease))) return;
    if (!this.#synced) await this.#sync();
    if (!lease.certain) return;
    let changed = false;
    if (this.#fenced) {
      this.#fenced = false;
      changed = true;
      this.#log.info(`cluster: etcd confirms the lease of member ${this.member} again: resuming its inputs`);
    }
    this.#joining = false;
    if (await this.#place(lease)) changed = true;
    this.#metrics.clusterMembers.set(this.#members.size);
    this.#metrics.clusterOwnedInputs.set([...this.#owners.keys()].filter((input) => this.#holds(input)).length);
    if (changed) this.emit('changed');
  }

  async #grant(): Promise<MemberLease> {
    const lease = await MemberLease.grant(this.#leaseClient, this.#config.lease_ttl);
    lease.on('uncertain', () => this.#fence(lease));
    lease.on('certain', () => this.#kick());
    lease.on('expired', () => this.#expired(lease));
    this.#lease = lease;
    this.#registered = false;
    return lease;
  }

  /** Puts `<prefix>/members/<member>` under the lease; false while another lease holds that name. */
  async #register(lease: MemberLease): Promise<boolean> {
    const key = this.#membersPrefix + this.member;
    const value = JSON.stringify({ since: new Date().toISOString() });
    const answer = await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(value).lease(lease.id)).else(this.#client.get(key)).commit();
    const holder = answer.succeeded ? undefined : answer.responses[0]?.response_range?.kvs[0];
    if (holder && String(holder.lease) !== lease.id) {
      // A replica restarted under the same name waits for its earlier run's lease to expire; two live replicas must not share a name.
      this.#log.warn(
        `cluster: member name ${this.member} is held by another lease (an earlier run of this replica whose lease has not expired yet, or another replica with the same [cluster] member); waiting for it to go`,
      );
      this.#kick(lease.timing.heartbeatMs);
      return false;
    }
    this.#registered = true;
    const revision = Number(holder?.mod_revision ?? answer.header.revision);
    this.#members.set(this.member, { value: holder?.value.toString() ?? value, lease: lease.id, revision });
    return true;
  }

  /** Reads every member and owner, then watches for changes from the revision read. */
  async #sync(): Promise<void> {
    this.#dropWatcher();
    const answer = await this.#client.getAll().prefix(`${this.#config.prefix}/`).exec();
    this.#members.clear();
    this.#owners.clear();
    for (const kv of answer.kvs) this.#put(kv);
    const next = this.#client
      .watch()
      .prefix(`${this.#config.prefix}/`)
      .startRevision(String(Number(answer.header.revision) + 1))
      .watcher();
    next.on('put', (kv) => {
      this.#put(kv);
      this.#kick();
    });
    next.on('delete', (kv) => {
      this.#delete(kv);
      this.#kick();
    });
    // A watch etcd cancels (its revision compacted away while disconnected): read everything again.
    next.on('error', () => {
      if (this.#watcher !== next) return;
      this.#synced = false;
      this.#kick();
    });
    this.#watcher = next;
    this.#synced = true;
  }

  /** Cancels the watch without waiting: a watch etcd never confirmed (etcd away, access refused) would never say it ended. */
  #dropWatcher(): void {
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

  #put(kv: IKeyValue): void {
    const at = this.#mapOf(kv.key.toString());
    if (!at) return;
    const [map, name] = at;
    const revision = Number(kv.mod_revision);
    if ((map.get(name)?.revision ?? 0) >= revision) return; // older than what a transaction of ours told
    map.set(name, { value: kv.value.toString(), lease: String(kv.lease), revision });
  }

  #delete(kv: IKeyValue): void {
    const at = this.#mapOf(kv.key.toString());
    if (!at) return;
    const [map, name] = at;
    if ((map.get(name)?.revision ?? 0) >= Number(kv.mod_revision)) return;
    map.delete(name);
    // Our own key deleted by someone else: register again.
    if (map === this.#members && name === this.member) this.#registered = false;
  }

  /**
   * The inputs that belong to this member among the live ones, computed
   * again only when the members or the inputs change: every key written
   * brings a pass, and hashing every input for every member each time
   * would cost more than the rest of it with a thousand inputs.
   */
  #mine(): Set<string> {
    const members = [...this.#members.keys()].sort();
    const key = members.join('\n');
    if (this.#placed?.members !== key || this.#placed.inputs !== this.#inputs) {
      this.#placed = { members: key, inputs: this.#inputs, mine: new Set([...this.#inputs].filter((input) => ownerOf(input, members) === this.member)) };
    }
    return this.#placed.mine;
  }

  #holds(input: string): boolean {
    return this.#lease !== undefined && this.#owners.get(input)?.lease === this.#lease.id;
  }

  /**
   * Takes the inputs that belong here and are free, marks for release those
   * held here that belong elsewhere (or are no longer shared), and deletes
   * the keys of those the app has stopped. True when what may run changed.
   */
  async #place(lease: MemberLease): Promise<boolean> {
    let changed = false;
    if (!this.#members.has(this.member)) {
      // Our own key is gone (deleted by hand): without us among the members, we would give everything up.
      this.#registered = false;
      this.#kick();
      return false;
    }
    const mineNow = this.#mine();
    const take: string[] = [];
    for (const input of this.#inputs) {
      const mine = mineNow.has(input);
      if (mine && !this.#owners.has(input)) take.push(input);
      else if (mine && this.#releasing.delete(input))
        changed = true; // it came back before it was given up
      else if (!mine && this.#holds(input) && !this.#releasing.has(input)) {
        this.#releasing.add(input);
        changed = true;
      }
    }
    for (const input of this.#owners.keys()) {
      if (!this.#inputs.has(input) && this.#holds(input) && !this.#releasing.has(input)) {
        this.#releasing.add(input);
        changed = true;
      }
    }
    await eachLimited(take, PARALLEL_REQUESTS, async (input) => {
      if (await this.#take(input, lease)) changed = true;
    });
    // mayRun() has said no to these since they were marked: once stopped, they cannot start again here.
    const stopped = [...this.#releasing].filter((input) => !this.#isRunning(input));
    await eachLimited(stopped, PARALLEL_REQUESTS, (input) => this.#giveUp(input, lease));
    return changed;
  }

  /** Creates the input's key under the lease if nobody holds it. */
  async #take(input: string, lease: MemberLease): Promise<boolean> {
    const key = this.#ownersPrefix + input;
    const answer = await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(this.member).lease(lease.id)).commit();
    if (!answer.succeeded) return false; // someone holds it: the watch says who
    this.#owners.set(input, { value: this.member, lease: lease.id, revision: Number(answer.header.revision) });
    this.#metrics.clusterHandoffs.inc({ direction: 'in' });
    this.#log.info({ input }, `cluster: member ${this.member} takes input ${input}`);
    return true;
  }

  /** Deletes the key of an input this member has stopped, if it still holds it. */
  async #giveUp(input: string, lease: MemberLease): Promise<void> {
    const key = this.#ownersPrefix + input;
    await this.#client.if(key, 'Value', '==', this.member).and(key, 'Lease', '==', lease.id).then(this.#client.delete().key(key)).commit();
    this.#releasing.delete(input);
    if (this.#holds(input)) this.#owners.delete(input);
    this.#metrics.clusterHandoffs.inc({ direction: 'out' });
    this.#log.info({ input }, `cluster: member ${this.member} stopped input ${input} and gave it up`);
  }

  /** The lease may expire soon: stop every shared input now (the app does, on `fence`), and read everything again once etcd answers. */
  #fence(lease: MemberLease): void {
    if (lease !== this.#lease || this.#fenced) return;
    this.#fenced = true;
    this.#synced = false;
    const held = [...this.#owners.keys()].filter((input) => this.#holds(input)).length;
    const confirmedMsAgo = Math.round(performance.now() - (lease.validUntil - lease.ttlMs));
    this.#log.error(
      `cluster: etcd has not confirmed the lease of member ${this.member} for ${(confirmedMsAgo / 1000).toFixed(1)} s (lease_ttl ${lease.ttlMs / 1000} s): stopping its ${held} shared input(s) before the lease can expire, so that no other member runs them at the same time; they resume when etcd answers`,
    );
    this.emit('fence', lease.timing.stopGraceMs);
    this.#kick();
  }

  /** etcd dropped the lease (it expired, or was revoked): its keys are gone; join again under a new one. */
  #expired(lease: MemberLease): void {
    if (lease !== this.#lease) return;
    this.#fence(lease);
    this.#log.error(`cluster: etcd says the lease of member ${this.member} is gone: joining again under a new lease`);
    this.#lease = undefined;
    this.#releasing.clear();
    this.#kick();
  }

  async #lastHeartbeat(leaseId: string): Promise<string | undefined> {
    if (leaseId === this.#lease?.id) return new Date(Date.now() - (performance.now() - (this.#lease.validUntil - this.#lease.ttlMs))).toISOString();
    try {
      const answer = await this.#leaseClient.leaseClient.leaseTimeToLive({ ID: leaseId });
      const ttl = Number(answer.TTL);
      if (ttl < 0) return undefined;
      return new Date(Date.now() - (Number(answer.grantedTTL) - ttl) * 1000).toISOString();
    } catch {
      return undefined;
    }
  }
}
