/**
 * A cluster member's state. `joining` until its first pass has registered
 * it, read the cluster and found its lease confirmed; `member` while it runs
 * its share; `fenced` while its shared inputs are stopped because etcd does
 * not confirm its lease (it may expire); `closed` once it leaves, for good.
 */
export type MemberState = 'joining' | 'member' | 'fenced' | 'closed';

/**
 * What a pass does next before this member can place inputs, in order:
 * register its name under its lease, read and watch the cluster's keys,
 * then place (`ready`). Without a lease a pass gets one first, and then
 * registers. A pass moves on; events send it back (see redo).
 */
export type JoinStep = 'register' | 'sync' | 'ready';

const STEPS: readonly JoinStep[] = ['register', 'sync', 'ready'];

/** Every transition there is; any other (but to the same state, or out of `closed`) is a bug. */
const TRANSITIONS: Record<MemberState, readonly MemberState[]> = {
  // A lease can turn uncertain before the first pass is over.
  joining: ['member', 'fenced', 'closed'],
  member: ['fenced', 'closed'],
  fenced: ['member', 'closed'],
  closed: [],
};

/** Who hears of every change: the cluster's events, which log and count them. */
export interface MemberStateEvents {
  transition(member: string, from: MemberState, to: MemberState): void;
  step(member: string, from: JoinStep, to: JoinStep): void;
}

/** A member's state and the step its passes are at, changed only here. */
export class MemberStates {
  readonly #member: string;
  readonly #events: MemberStateEvents;
  #state: MemberState = 'joining';
  #step: JoinStep = 'register';

  constructor(member: string, events: MemberStateEvents) {
    this.#member = member;
    this.#events = events;
  }

  get state(): MemberState {
    return this.#state;
  }

  get step(): JoinStep {
    return this.#step;
  }

  /** Moves to `next`; false when already there, or closed (which is final). */
  to(next: MemberState): boolean {
    const from = this.#state;
    if (from === next || from === 'closed') return false;
    if (!TRANSITIONS[from].includes(next)) throw new Error(`cluster member ${this.#member}: no transition from ${from} to ${next}`);
    this.#state = next;
    this.#events.transition(this.#member, from, next);
    return true;
  }

  /** A pass has done `step`: the next one is due. */
  done(step: JoinStep): void {
    if (step !== this.#step || step === 'ready') return;
    this.#go(STEPS[STEPS.indexOf(step) + 1]!);
  }

  /** What `step` did is undone (a new lease, our own key deleted, a watch cancelled): a pass does it again, and every step after it. */
  redo(step: JoinStep): void {
    if (STEPS.indexOf(step) < STEPS.indexOf(this.#step)) this.#go(step);
  }

  #go(step: JoinStep): void {
    const from = this.#step;
    this.#step = step;
    this.#events.step(this.#member, from, step);
  }
}
