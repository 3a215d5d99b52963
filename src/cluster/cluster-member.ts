import { EventEmitter } from 'node:events';
import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import PQueue from 'p-queue';
import { Backoff } from '../backoff.js';
import type { ClusterConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { ClusterEvents } from '../telemetry/events/cluster-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { connectEtcd } from './etcd-client.js';
import { EtcdMirror } from './etcd-mirror.js';
import { leaseTiming, MemberLease } from './member-lease.js';
import { type MemberState, MemberStates } from './member-state.js';
import { place, shareOf } from './placement.js';

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
  state: Exclude<MemberState, 'closed'>;
  etcd: string[];
  prefix: string;
  leaseTtlMs: number;
  members: MemberStatus[];
  /** Every shared input with the member holding it (none while it moves). */
  owners: { input: string; owner?: string }[];
  /** The last etcd error, while etcd does not answer. */
  lastError?: string;
}

/** etcd requests run at once when many inputs change hands (a member's first start with 1,000 inputs). */
const PARALLEL_REQUESTS = 16;

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
 *
 * The work is done in passes, one at a time: each brings the member in line
 * with etcd from the step it is at (member-state.ts), and every change it
 * hears of (a key written, the lease confirmed again, the app settled) asks
 * for another.
 */
export class ClusterMember extends EventEmitter<ClusterMemberEvents> {
  readonly member: string;
  readonly #config: ClusterConfig;
  readonly #events: ClusterEvents;
  readonly #metrics: Metrics;
  readonly #states: MemberStates;
  /** Keys and the watch. */
  readonly #client: Etcd3;
  /**
   * The lease's own connection: the client resets every channel of a
   * connection when one of its calls fails, so a watch or a request that
   * fails (etcd restarting) would cut the keep-alives too, and those must
   * resume first.
   */
  readonly #leaseClient: Etcd3;
  readonly #mirror: EtcdMirror;
  readonly #backoff: Backoff;
  /** Passes, one at a time: a kick while one runs queues one more, and kicks while that one waits need nothing more (it will see their news). */
  readonly #passes = new PQueue({ concurrency: 1 });
  /** A pass's etcd requests, when many inputs change hands at once. */
  readonly #requests = new PQueue({ concurrency: PARALLEL_REQUESTS });
  /** Undefined until granted, and from when etcd says it is gone until the next is granted. */
  #lease: MemberLease | undefined;
  /** The shared inputs of the config: the ones to place. */
  #inputs: ReadonlySet<string> = new Set();
  /** Held inputs that belong elsewhere now: the app stops them, then their keys are deleted. */
  readonly #releasing = new Set<string>();
  /** Whether the app runs an input now: a key is given up only once it does not. */
  readonly #isRunning: (input: string) => boolean;
  /** This member's share, for which members and inputs: computed again only when those change (see placement.ts). */
  #share: { members: string; inputs: ReadonlySet<string>; share: ReadonlySet<string> } | undefined;
  #retry: NodeJS.Timeout | undefined;
  #lastError: string | undefined;

  constructor(options: { config: ClusterConfig; member: string; isRunning: (input: string) => boolean; log: Logger; metrics: Metrics }) {
    super();
    this.member = options.member;
    this.#isRunning = options.isRunning;
    this.#config = options.config;
    this.#events = new ClusterEvents(options.log.child({ component: 'cluster' }), options.metrics);
    this.#metrics = options.metrics;
    this.#states = new MemberStates(this.member, this.#events);
    const heartbeatMs = options.config.lease_ttl / 5;
    const timing = { requestTimeoutMs: Math.max(heartbeatMs, 1_000), reconnectMs: heartbeatMs };
    this.#client = connectEtcd(options.config, timing);
    this.#leaseClient = connectEtcd(options.config, timing);
    this.#mirror = new EtcdMirror(this.#client, options.config.prefix);
    this.#mirror.on('changed', () => this.#kick());
    this.#mirror.on('lost', () => {
      this.#states.redo('sync');
      this.#kick();
    });
    this.#backoff = new Backoff({ firstMs: 250, maxMs: heartbeatMs, jitter: true });
  }

  /**
   * Joins with `inputs` (the config's shared inputs) to place; resolves once
   * the first attempt is over, joined or not: without etcd, the member keeps
   * trying in the background and runs no shared input meanwhile.
   */
  async start(inputs: Iterable<string>): Promise<void> {
    this.#inputs = new Set(inputs);
    this.#events.joining(this.member, this.#config.etcd, this.#config.prefix);
    this.#kick();
    await this.#passes.onIdle();
  }

  /** The shared inputs of a config just loaded. */
  setInputs(inputs: Iterable<string>): void {
    this.#inputs = new Set(inputs);
    this.#kick();
  }

  /** Whether this member may run `input` now: it is a member (not fenced), holds its key, does not give it up, and etcd confirms its lease. */
  mayRun(input: string): boolean {
    return this.#states.state === 'member' && this.#lease?.certain === true && this.#holds(input) && !this.#releasing.has(input);
  }

  /** The member holding `input`'s key, as this member last heard. */
  ownerOf(input: string): string | undefined {
    return this.#mirror.owners.get(input)?.value;
  }

  /** How long a tick in flight of a shared input may finish when it stops: its share of the fence lead. */
  get stopGraceMs(): number {
    return leaseTiming(this.#lease?.ttlMs ?? this.#config.lease_ttl).stopGraceMs;
  }

  /** `joining` until registered in etcd, `fenced` while its shared inputs are stopped because etcd does not confirm its lease, `closed` once it left. */
  get state(): MemberState {
    return this.#states.state;
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
    const state = this.#states.state;
    // The HTTP API stops before the member leaves: nobody asks a closed one.
    if (state === 'closed') throw new Error(`cluster member ${this.member} has left`);
    const held = new Map<string, number>();
    for (const { value } of this.#mirror.owners.values()) held.set(value, (held.get(value) ?? 0) + 1);
    const members = await Promise.all(
      [...this.#mirror.members].map(async ([member, entry]): Promise<MemberStatus> => {
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
      state,
      etcd: this.#config.etcd,
      prefix: this.#config.prefix,
      leaseTtlMs: this.#lease?.ttlMs ?? this.#config.lease_ttl,
      members: members.sort((a, b) => a.member.localeCompare(b.member)),
      owners: [...this.#inputs].sort().map((input) => ({ input, owner: this.ownerOf(input) })),
      lastError: this.#lastError,
    };
  }

  /** Leaves: revokes the lease, which deletes this member's key and its inputs' keys at once. Call once its inputs have stopped. */
  async close(): Promise<void> {
    if (!this.#states.to('closed')) return;
    clearTimeout(this.#retry);
    this.#passes.clear();
    await this.#passes.onIdle();
    this.#mirror.close();
    try {
      await this.#lease?.revoke();
      this.#events.left(this.member);
    } catch (err) {
      this.#events.leaveFailed(this.member, errorMessage(err));
    }
    this.#client.close();
    this.#leaseClient.close();
  }

  /** Asks for a pass over the cluster's state: now, or after `delayMs` (a retry). */
  #kick(delayMs = 0): void {
    if (this.#states.state === 'closed') return;
    if (delayMs > 0) {
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, delayMs);
      return;
    }
    if (this.#passes.size === 0) void this.#passes.add(() => this.#tryPass());
  }

  async #tryPass(): Promise<void> {
    try {
      await this.#pass();
      this.#backoff.succeeded();
      if (this.#lastError !== undefined) {
        this.#events.etcdAnswers(this.#config.etcd);
        this.#lastError = undefined;
      }
    } catch (err) {
      // A request under a lease etcd no longer has: the lease expired while this member could not renew it.
      if (err instanceof EtcdLeaseInvalidError && this.#lease) this.#expired(this.#lease);
      const message = errorMessage(err);
      this.#events.etcdFailed(this.#config.etcd, message, message === this.#lastError);
      this.#lastError = message;
      this.#kick(this.#backoff.failed());
    }
  }

  /** Brings this member in line with etcd from the step it is at: a lease, its registration, the keys read and watched, then its share of the inputs. */
  async #pass(): Promise<void> {
    const lease = this.#lease ?? (await this.#grant());
    if (this.#states.step === 'register' && !(await this.#register(lease))) return;
    if (this.#states.step === 'sync') {
      await this.#mirror.read();
      this.#states.done('sync');
    }
    if (!lease.certain || this.#states.state === 'closed') return;
    const resumed = this.#states.state === 'fenced';
    this.#states.to('member');
    if (resumed) this.#events.resumed(this.member);
    const placed = await this.#place(lease);
    this.#metrics.clusterMembers.set(this.#mirror.members.size);
    this.#metrics.clusterOwnedInputs.set([...this.#mirror.owners.keys()].filter((input) => this.#holds(input)).length);
    if (resumed || placed) this.emit('changed');
  }

  async #grant(): Promise<MemberLease> {
    const lease = await MemberLease.grant(this.#leaseClient, this.#config.lease_ttl);
    lease.on('uncertain', () => this.#fence(lease));
    lease.on('certain', () => this.#kick());
    lease.on('expired', () => this.#expired(lease));
    this.#lease = lease;
    this.#states.redo('register');
    return lease;
  }

  /** Puts `<prefix>/members/<member>` under the lease; false while another lease holds that name. */
  async #register(lease: MemberLease): Promise<boolean> {
    const key = this.#mirror.memberKey(this.member);
    const value = JSON.stringify({ since: new Date().toISOString() });
    const answer = await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(value).lease(lease.id)).else(this.#client.get(key)).commit();
    const holder = answer.succeeded ? undefined : answer.responses[0]?.response_range?.kvs[0];
    if (holder && String(holder.lease) !== lease.id) {
      this.#events.nameTaken(this.member);
      this.#kick(lease.timing.heartbeatMs);
      return false;
    }
    const revision = Number(holder?.mod_revision ?? answer.header.revision);
    this.#mirror.putMember(this.member, { value: holder?.value.toString() ?? value, lease: lease.id, revision });
    this.#states.done('register');
    return true;
  }

  #holds(input: string): boolean {
    return this.#lease !== undefined && this.#mirror.owners.get(input)?.lease === this.#lease.id;
  }

  /** Does what placement says: takes, marks for release, keeps, gives up. True when what may run changed. */
  async #place(lease: MemberLease): Promise<boolean> {
    const members = [...this.#mirror.members.keys()].sort();
    const placement = place({
      member: this.member,
      members,
      inputs: this.#inputs,
      share: this.#shareAmong(members),
      owners: this.#mirror.owners,
      lease: lease.id,
      releasing: this.#releasing,
      running: this.#isRunning,
    });
    if (!placement) {
      this.#states.redo('register');
      this.#kick();
      return false;
    }
    for (const input of placement.release) this.#releasing.add(input);
    for (const input of placement.keep) this.#releasing.delete(input);
    const took = await this.#requests.addAll(placement.take.map((input) => () => this.#take(input, lease)));
    // mayRun() has said no to these since they were marked: once stopped, they cannot start again here.
    await this.#requests.addAll(placement.giveUp.map((input) => () => this.#giveUp(input, lease)));
    return placement.release.length > 0 || placement.keep.length > 0 || took.includes(true);
  }

  #shareAmong(members: string[]): ReadonlySet<string> {
    const key = members.join('\n');
    if (this.#share?.members !== key || this.#share.inputs !== this.#inputs)
      this.#share = { members: key, inputs: this.#inputs, share: shareOf(this.member, members, this.#inputs) };
    return this.#share.share;
  }

  /** Creates the input's key under the lease if nobody holds it. */
  async #take(input: string, lease: MemberLease): Promise<boolean> {
    const key = this.#mirror.ownerKey(input);
    const answer = await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(this.member).lease(lease.id)).commit();
    if (!answer.succeeded) return false; // someone holds it: the watch says who
    this.#mirror.putOwner(input, { value: this.member, lease: lease.id, revision: Number(answer.header.revision) });
    this.#events.took(this.member, input);
    return true;
  }

  /** Deletes the key of an input this member has stopped, if it still holds it. */
  async #giveUp(input: string, lease: MemberLease): Promise<void> {
    const key = this.#mirror.ownerKey(input);
    await this.#client.if(key, 'Value', '==', this.member).and(key, 'Lease', '==', lease.id).then(this.#client.delete().key(key)).commit();
    this.#releasing.delete(input);
    this.#mirror.forgetOwner(input, lease.id);
    this.#events.gaveUp(this.member, input);
  }

  /** The lease may expire soon: stop every shared input now (the app does, on `fence`), and read everything again once etcd answers. */
  #fence(lease: MemberLease): void {
    if (lease !== this.#lease || !this.#states.to('fenced')) return;
    this.#states.redo('sync');
    const held = [...this.#mirror.owners.keys()].filter((input) => this.#holds(input)).length;
    this.#events.fenced(this.member, Math.round(performance.now() - (lease.validUntil - lease.ttlMs)), lease.ttlMs, held);
    this.emit('fence', lease.timing.stopGraceMs);
    this.#kick();
  }

  /** etcd dropped the lease (it expired, or was revoked): its keys are gone; join again under a new one. */
  #expired(lease: MemberLease): void {
    if (lease !== this.#lease) return;
    this.#fence(lease);
    this.#events.leaseExpired(this.member);
    // Heard from a request's error, the lease's keep-alives would go on until etcd answers one.
    lease.close();
    this.#lease = undefined;
    this.#states.redo('register');
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
