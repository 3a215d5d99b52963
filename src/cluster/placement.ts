import { ownerOf } from './rendezvous.js';

/** The shared inputs that rendezvous hashing gives `member` among `members`. */
export function shareOf(member: string, members: readonly string[], inputs: Iterable<string>): ReadonlySet<string> {
  return new Set([...inputs].filter((input) => ownerOf(input, members) === member));
}

/** What a member knows when it places inputs: the cluster as etcd last told it, and what it and its app do. */
export interface PlacementView {
  member: string;
  /** The live members (their keys under `<prefix>/members/`). */
  members: readonly string[];
  /** The config's shared inputs. */
  inputs: ReadonlySet<string>;
  /**
   * shareOf(member, members, inputs), which the caller keeps while those do
   * not change: every key written brings a pass, and hashing every input for
   * every member each time would cost more than the rest with a thousand.
   */
  share: ReadonlySet<string>;
  /** Every input's key that a member holds, with the lease it is bound to. */
  owners: ReadonlyMap<string, { lease: string }>;
  /** This member's lease: the keys under it are the ones it holds. */
  lease: string;
  /** Inputs marked for release: the app stops them, then their keys go. */
  releasing: ReadonlySet<string>;
  /** Whether the app runs an input now: a key is given up only once it does not. */
  running: (input: string) => boolean;
}

/** What a member does to be in line with the cluster. */
export interface Placement {
  /** Free inputs that belong to it: create their keys. */
  take: string[];
  /** Inputs it holds that belong elsewhere now, or are no longer shared: mark for release (the app stops them). */
  release: string[];
  /** Inputs marked for release that belong to it again before it gave them up: unmark (they run on). */
  keep: string[];
  /** Inputs marked for release that the app no longer runs: delete their keys (they cannot start again here). */
  giveUp: string[];
}

/**
 * What this member does about the cluster's state: takes the free inputs
 * that belong to it, marks for release those it holds that belong elsewhere,
 * and gives up those the app has stopped. Undefined while the member is not
 * among the members (its own key deleted by hand): without itself among
 * them it would give everything up; it registers again first.
 */
export function place(view: PlacementView): Placement | undefined {
  if (!view.members.includes(view.member)) return undefined;
  const holds = (input: string) => view.owners.get(input)?.lease === view.lease;
  const placement: Placement = { take: [], release: [], keep: [], giveUp: [] };
  for (const input of view.inputs) {
    if (!view.share.has(input)) continue;
    if (!view.owners.has(input)) placement.take.push(input);
    else if (view.releasing.has(input)) placement.keep.push(input);
  }
  for (const input of view.owners.keys()) if (!view.share.has(input) && holds(input) && !view.releasing.has(input)) placement.release.push(input);
  const keep = new Set(placement.keep);
  const releasing = [...[...view.releasing].filter((input) => !keep.has(input)), ...placement.release];
  placement.giveUp = releasing.filter((input) => !view.running(input));
  return placement;
}
