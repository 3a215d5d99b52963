import { EventEmitter } from 'node:events';
import type { Etcd3, IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';

export interface MemberLeaseEvents {
  /** The lease may expire within the fence lead: whatever this member runs under it must stop now. */
  uncertain: [];
  /** etcd renewed the lease again after it was uncertain. */
  certain: [];
  /** etcd says the lease no longer exists (it expired, or was revoked): its keys are gone. */
  expired: [];
}

/**
 * How a member's lease is paced, from its TTL: a heartbeat every fifth of
 * it, and the member stops its inputs when its lease might expire within two
 * fifths (so two heartbeats in a row may go unanswered before it must), half
 * of that lead for ticks in flight to finish, the rest for killing hosts and
 * for timers firing late on a busy machine.
 */
export function leaseTiming(ttlMs: number): { heartbeatMs: number; fenceLeadMs: number; stopGraceMs: number } {
  return { heartbeatMs: ttlMs / 5, fenceLeadMs: (2 * ttlMs) / 5, stopGraceMs: ttlMs / 5 };
}

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

/**
 * A member's etcd lease, kept alive, and what fencing needs: the time until
 * which it is certainly alive. etcd renews a lease when it handles a
 * keep-alive, so an answered keep-alive proves the lease lives until the
 * moment it was *sent* plus the TTL, whatever the network delay was; a
 * keep-alive that goes unanswered proves nothing. Times are monotonic
 * (performance.now()).
 */
export class MemberLease extends EventEmitter<MemberLeaseEvents> {
  readonly id: string;
  readonly ttlMs: number;
  readonly #client: Etcd3;
  readonly #timing: ReturnType<typeof leaseTiming>;
  #validUntil: number;
  #certain = true;
  #stream: KeepAliveStream | undefined;
  #opening = false;
  /** Send times of the keep-alives on the stream not answered yet, oldest first (etcd answers in order). */
  #pending: number[] = [];
  readonly #heartbeat: NodeJS.Timeout;
  #fenceTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Asks etcd for a lease of `ttlMs` (whole seconds) and keeps it alive; rejects when etcd does not answer. */
  static async grant(client: Etcd3, ttlMs: number): Promise<MemberLease> {
    const sent = performance.now();
    const granted = await client.leaseClient.leaseGrant({ TTL: ttlMs / 1000 });
    // etcd may raise a TTL below its minimum: the TTL it answers is the one in force.
    const ttl = Number(granted.TTL) * 1000;
    return new MemberLease(client, String(granted.ID), ttl, sent + ttl);
  }

  private constructor(client: Etcd3, id: string, ttlMs: number, validUntil: number) {
    super();
    this.#client = client;
    this.id = id;
    this.ttlMs = ttlMs;
    this.#timing = leaseTiming(ttlMs);
    this.#validUntil = validUntil;
    this.#heartbeat = setInterval(() => this.#beat(), this.#timing.heartbeatMs);
    this.#armFence();
    this.#open(); // now, not a heartbeat from now: a busy start must not leave the lease unconfirmed for longer
  }

  /** False from the moment the lease might expire within the fence lead until etcd renews it again. */
  get certain(): boolean {
    return this.#certain;
  }

  /** Until when (monotonic ms) the lease is certainly alive. */
  get validUntil(): number {
    return this.#validUntil;
  }

  get timing(): ReturnType<typeof leaseTiming> {
    return this.#timing;
  }

  /** Stops keeping it alive; etcd lets it expire after its TTL. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#fenceTimer);
    this.#dropStream();
  }

  /** Ends the lease now: etcd deletes every key bound to it at once. */
  async revoke(): Promise<void> {
    this.close();
    await this.#client.leaseClient.leaseRevoke({ ID: this.id });
  }

  #beat(): void {
    if (this.#closed) return;
    // No answer for a whole TTL: whatever the stream waits on, the lease may be gone; a new stream asks afresh. (Answers
    // that come late still count, from when they were sent: dropping a slow stream sooner, as etcd catches up after a
    // restart, would only throw them away. A dead connection is found by gRPC's own keep-alive pings.)
    if (this.#stream && this.#pending.length > 0 && performance.now() - this.#pending[0]! > this.ttlMs) this.#dropStream();
    if (this.#stream) this.#send(this.#stream);
    else this.#open();
  }

  #open(): void {
    if (this.#opening) return;
    this.#opening = true;
    this.#client.leaseClient.leaseKeepAlive().then(
      (stream) => {
        this.#opening = false;
        if (this.#closed) {
          stream.end();
          return;
        }
        this.#stream = stream;
        this.#pending = [];
        stream.on('data', (answer: ILeaseKeepAliveResponse) => {
          if (stream === this.#stream) this.#answered(answer);
        });
        // A broken stream is replaced at the next heartbeat.
        stream.on('error', () => {
          if (stream === this.#stream) this.#dropStream();
        });
        stream.on('end', () => {
          if (stream === this.#stream) this.#dropStream();
        });
        this.#send(stream);
      },
      () => {
        this.#opening = false;
      },
    );
  }

  #send(stream: KeepAliveStream): void {
    this.#pending.push(performance.now());
    stream.write({ ID: this.id });
  }

  #answered(answer: ILeaseKeepAliveResponse): void {
    const sent = this.#pending.shift();
    if (sent === undefined) return;
    const ttl = Number(answer.TTL) * 1000;
    if (ttl <= 0) {
      this.close();
      this.emit('expired');
      return;
    }
    this.#validUntil = Math.max(this.#validUntil, sent + ttl);
    this.#armFence();
    if (!this.#certain && this.#validUntil - performance.now() > this.#timing.fenceLeadMs) {
      this.#certain = true;
      this.emit('certain');
    }
  }

  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    const wait = this.#validUntil - this.#timing.fenceLeadMs - performance.now();
    const due = (): boolean => !this.#closed && this.#certain && performance.now() >= this.#validUntil - this.#timing.fenceLeadMs;
    this.#fenceTimer = setTimeout(
      () => {
        if (this.#closed || !this.#certain) return;
        if (!due()) return this.#armFence();
        // Once more after the I/O already waiting: a busy loop runs timers before it reads sockets, and an answer may be
        // there. One turn of the loop, well within the lead's slack.
        setImmediate(() => {
          if (!due()) return;
          this.#certain = false;
          this.emit('uncertain');
        });
      },
      Math.max(0, wait),
    );
  }

  #dropStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#pending = [];
    // Its listeners stay: they ignore a stream that is no longer the current one.
    stream?.cancel();
  }
}
