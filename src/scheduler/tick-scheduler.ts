import { systemClock, type Clock } from './clock.js';
import type { TickQueue } from './tick-queue.js';

export interface Schedulable {
  /** The input whose concurrency limit the tick counts against. */
  input: string;
  intervalMs: number;
  /**
   * A service (an input with `timeout = "0"`): its run may never end. It
   * starts outside the concurrency limits, which it would hold for good;
   * each later due time only looks at it: while it runs nothing happens and
   * nothing is counted; once it has ended (run() returned or raised, its
   * host died), it is started again.
   */
  service?: boolean;
}

export type SkipReason = 'overlap' | 'late';

export interface TickSchedulerOptions<T extends Schedulable> {
  queue: TickQueue;
  /** Runs one tick; must not throw. */
  run(entry: T, dueAt: number): Promise<void>;
  /** `count` ticks of `entry` were not run: `overlap` (the previous one is still running) or `late` (still queued, or the timer itself fell behind). */
  skipped(entry: T, reason: SkipReason, count: number): void;
  /** A tick left the queue `latenessMs` after its due time. */
  started?(entry: T, latenessMs: number): void;
  /** A tick was queued (or skipped); the next one is due at `nextDueAt` (clock time). */
  planned?(entry: T, nextDueAt: number): void;
  /**
   * A tick of `entry` is due while its previous one still runs: return true
   * when that one is being stopped (`overlap = "kill"`), and the due tick
   * then starts as soon as it has ended; false skips the due tick (overlap).
   */
  overrun?(entry: T): boolean;
  clock?: Clock;
  /** Returns [0, 1): spreads the first ticks over one interval (at most `maxSpreadMs`). */
  random?: () => number;
  /** A collector's first tick comes within this of start, even when its interval is longer. Default 10 s. */
  maxSpreadMs?: number;
}

interface Slot<T> {
  entry: T;
  dueAt: number;
  phase: 'idle' | 'queued' | 'running';
  timer: unknown;
  /** The due time of a tick waiting for the running one, which overrun() is stopping. */
  next?: number;
}

/**
 * Ticks every collector at a fixed rate: due times stay on the grid
 * `first + k × interval` whatever a tick costs. At most one tick per collector
 * is queued or running; a tick due while the previous one is still there is
 * skipped and counted, so the queue never grows past one tick per collector.
 * A service's due times start it only when it is not running (see Schedulable).
 */
export class TickScheduler<T extends Schedulable> {
  readonly #options: TickSchedulerOptions<T>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #slots = new Set<Slot<T>>();
  #stopped = false;

  constructor(options: TickSchedulerOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Starts ticking `entry`: its first tick is due at `dueAt` (clock time) when
   * given (a collector taking over another's schedule), else within one
   * interval (at most maxSpreadMs) from now.
   */
  add(entry: T, dueAt?: number): void {
    const spread = Math.min(entry.intervalMs, this.#options.maxSpreadMs ?? 10_000);
    const slot: Slot<T> = { entry, dueAt: dueAt ?? this.#clock.now() + this.#random() * spread, phase: 'idle', timer: undefined };
    this.#slots.add(slot);
    this.#options.planned?.(entry, slot.dueAt);
    this.#arm(slot);
  }

  /**
   * Stops ticking the entries `match` picks; a tick of theirs already queued
   * or running still finishes. Returns each one's next due time, so a
   * replacement can keep the schedule.
   */
  remove(match: (entry: T) => boolean): Map<T, number> {
    const removed = new Map<T, number>();
    for (const slot of this.#slots) {
      if (!match(slot.entry)) continue;
      this.#clock.clearTimeout(slot.timer);
      this.#slots.delete(slot);
      removed.set(slot.entry, slot.dueAt);
    }
    return removed;
  }

  /** No tick is started after this; ticks already queued still run (see TickQueue.onIdle). */
  stop(): void {
    this.#stopped = true;
    for (const slot of this.#slots) this.#clock.clearTimeout(slot.timer);
  }

  #arm(slot: Slot<T>): void {
    slot.timer = this.#clock.setTimeout(() => this.#fire(slot), slot.dueAt - this.#clock.now());
  }

  #fire(slot: Slot<T>): void {
    if (this.#stopped) return;
    const { entry } = slot;
    const now = this.#clock.now();
    // Timers themselves ran late (a blocked event loop): the ticks whose time fully passed are lost.
    // (A service loses nothing: its due times are only looks at it.)
    const missed = Math.floor((now - slot.dueAt) / entry.intervalMs);
    if (missed > 0) {
      if (!entry.service) this.#options.skipped(entry, 'late', missed);
      slot.dueAt += missed * entry.intervalMs;
    }

    const dueAt = slot.dueAt;
    if (slot.phase === 'idle') this.#start(slot, dueAt);
    else if (entry.service) {
      // still running: nothing to do (see Schedulable)
    } else if (slot.phase === 'running' && slot.next === undefined && this.#options.overrun?.(entry)) slot.next = dueAt;
    else this.#options.skipped(entry, slot.phase === 'running' ? 'overlap' : 'late', 1);

    slot.dueAt = dueAt + entry.intervalMs;
    this.#options.planned?.(entry, slot.dueAt);
    this.#arm(slot);
  }

  #start(slot: Slot<T>, dueAt: number): void {
    if (slot.entry.service) {
      void this.#execute(slot, dueAt);
      return;
    }
    slot.phase = 'queued';
    void this.#options.queue.add(slot.entry.input, () => this.#execute(slot, dueAt));
  }

  async #execute(slot: Slot<T>, dueAt: number): Promise<void> {
    slot.phase = 'running';
    this.#options.started?.(slot.entry, this.#clock.now() - dueAt);
    try {
      await this.#options.run(slot.entry, dueAt);
    } finally {
      slot.phase = 'idle';
    }
    const next = slot.next;
    slot.next = undefined;
    if (next !== undefined && !this.#stopped && this.#slots.has(slot)) this.#start(slot, next);
  }
}
