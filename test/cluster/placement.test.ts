import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Placement, place, shareOf } from '../../src/cluster/placement.js';
import { ownerOf } from '../../src/cluster/rendezvous.js';

/** The member placing, and its lease; the other members' keys are under L2 and L3, an earlier run of m1's under L0. */
const ME = 'm1';
const LEASE = 'L1';

const CANDIDATES = Array.from({ length: 100 }, (_, i) => `input-${i}`);

/** An input that rendezvous hashing gives to `owner` among `members`, and then to each `[owner, members]` that follows. */
function inputOf(...owners: [string, string[]][]): string {
  const found = CANDIDATES.find((input) => owners.every(([owner, members]) => ownerOf(input, members) === owner));
  assert.ok(found, `an input owned by ${owners.map(([owner, members]) => `${owner} among ${members.join(',')}`).join(', then ')}`);
  return found;
}

const mine = inputOf([ME, ['m1', 'm2']]);
const theirs = inputOf(['m2', ['m1', 'm2']]);
/** Held by m1 while two are members; m3's once it joins. */
const moving = inputOf([ME, ['m1', 'm2']], ['m3', ['m1', 'm2', 'm3']]);
/** m1's with two members and with three. */
const staying = inputOf([ME, ['m1', 'm2']], [ME, ['m1', 'm2', 'm3']]);
/** m2's while it is a member; m1's once it left. */
const orphan = inputOf(['m2', ['m1', 'm2']], [ME, ['m1']]);

interface Case {
  title: string;
  members: string[];
  inputs: string[];
  /** Input → lease its key is bound to. */
  owners?: Record<string, string>;
  releasing?: string[];
  running?: string[];
  expect: Partial<Placement> | undefined;
}

const CASES: Case[] = [
  { title: 'takes the free inputs that belong to it and leaves the others', members: ['m1', 'm2'], inputs: [mine, theirs], expect: { take: [mine] } },
  {
    title: 'waits while another member still holds an input that belongs to it',
    members: ['m1', 'm2'],
    inputs: [mine],
    owners: { [mine]: 'L2' },
    expect: {},
  },
  {
    title: 'waits for the key an earlier run of its own left (another lease) to expire',
    members: ['m1', 'm2'],
    inputs: [mine],
    owners: { [mine]: 'L0' },
    expect: {},
  },
  {
    title: 'runs on what it holds and what belongs to it',
    members: ['m1', 'm2'],
    inputs: [mine, theirs],
    owners: { [mine]: LEASE, [theirs]: 'L2' },
    running: [mine],
    expect: {},
  },
  {
    title: 'a member joins: marks for release the inputs that go to it, still running',
    members: ['m1', 'm2', 'm3'],
    inputs: [moving, staying],
    owners: { [moving]: LEASE, [staying]: LEASE },
    running: [moving, staying],
    expect: { release: [moving] },
  },
  {
    title: 'a member joins: gives up an input marked for release once the app stopped it',
    members: ['m1', 'm2', 'm3'],
    inputs: [moving, staying],
    owners: { [moving]: LEASE, [staying]: LEASE },
    releasing: [moving],
    running: [staying],
    expect: { giveUp: [moving] },
  },
  {
    title: 'a member joins: keeps an input marked for release while the app still runs it',
    members: ['m1', 'm2', 'm3'],
    inputs: [moving],
    owners: { [moving]: LEASE },
    releasing: [moving],
    running: [moving],
    expect: {},
  },
  {
    title: 'an input comes back before it was given up (the member that joined left again): unmarked, not given up',
    members: ['m1', 'm2'],
    inputs: [moving],
    owners: { [moving]: LEASE },
    releasing: [moving],
    expect: { keep: [moving] },
  },
  {
    title: 'a member leaves: waits while its keys live, since its lease has not expired',
    members: ['m1'],
    inputs: [orphan],
    owners: { [orphan]: 'L2' },
    expect: {},
  },
  { title: 'a member leaves: takes its inputs that now belong here once their keys are gone', members: ['m1'], inputs: [orphan], expect: { take: [orphan] } },
  {
    title: 'an input is added to the config: takes it if it belongs here',
    members: ['m1', 'm2'],
    inputs: [mine, staying],
    owners: { [mine]: LEASE },
    running: [mine],
    expect: { take: [staying] },
  },
  {
    title: 'an input is removed from the config: marks its key for release, and gives it up at once if the app does not run it',
    members: ['m1', 'm2'],
    inputs: [],
    owners: { [mine]: LEASE, [staying]: LEASE },
    running: [mine],
    expect: { release: [mine, staying], giveUp: [staying] },
  },
  {
    title: 'a removed input held by another member is none of its business',
    members: ['m1', 'm2'],
    inputs: [],
    owners: { [theirs]: 'L2' },
    expect: {},
  },
  {
    title: 'its own key disappears (deleted by hand): nothing until it registered again, rather than give everything up',
    members: ['m2'],
    inputs: [mine, theirs],
    owners: { [mine]: LEASE },
    running: [mine],
    expect: undefined,
  },
];

describe('placement', () => {
  for (const c of CASES) {
    it(c.title, () => {
      const inputs = new Set(c.inputs);
      const running = new Set(c.running ?? []);
      const placement = place({
        member: ME,
        members: c.members,
        inputs,
        share: shareOf(ME, c.members, inputs),
        owners: new Map(Object.entries(c.owners ?? {}).map(([input, lease]) => [input, { lease }])),
        lease: LEASE,
        releasing: new Set(c.releasing ?? []),
        running: (input) => running.has(input),
      });
      const sorted = (list: string[] | undefined) => [...(list ?? [])].sort();
      assert.deepEqual(
        placement && { take: sorted(placement.take), release: sorted(placement.release), keep: sorted(placement.keep), giveUp: sorted(placement.giveUp) },
        c.expect && { take: sorted(c.expect.take), release: sorted(c.expect.release), keep: sorted(c.expect.keep), giveUp: sorted(c.expect.giveUp) },
      );
    });
  }

  it('shares every input out to exactly one of the members', () => {
    const members = ['m1', 'm2', 'm3'];
    const shares = members.map((member) => shareOf(member, members, CANDIDATES));
    assert.deepEqual(shares.flatMap((share) => [...share]).sort(), [...CANDIDATES].sort());
    for (const share of shares) assert.ok(share.size > 10, `a share of ${share.size} of 100`);
  });
});
