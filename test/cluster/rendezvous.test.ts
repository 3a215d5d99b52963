import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerOf } from '../../src/cluster/rendezvous.js';

const inputs = Array.from({ length: 1000 }, (_, i) => `input-${i}`);
const owners = (members: string[]) => new Map(inputs.map((input) => [input, ownerOf(input, members)]));

describe('rendezvous hashing', () => {
  it('gives every member about an equal share, whatever order the members are listed in', () => {
    const members = ['runner-a', 'runner-b', 'runner-c'];
    const placed = owners(members);
    assert.deepEqual(placed, owners([...members].reverse()));
    for (const member of members) {
      const share = [...placed.values()].filter((owner) => owner === member).length;
      assert.ok(share > 280 && share < 390, `${member} got ${share} of 1000`);
    }
  });

  it('moves only the inputs the joining member wins, about 1/N of them', () => {
    const before = owners(['runner-a', 'runner-b', 'runner-c']);
    const after = owners(['runner-a', 'runner-b', 'runner-c', 'runner-d']);
    const moved = inputs.filter((input) => before.get(input) !== after.get(input));
    assert.ok(moved.every((input) => after.get(input) === 'runner-d'));
    assert.ok(moved.length > 200 && moved.length < 300, `${moved.length} of 1000 moved`);
  });

  it('moves only the inputs of the member that leaves', () => {
    const before = owners(['runner-a', 'runner-b', 'runner-c']);
    const after = owners(['runner-a', 'runner-c']);
    const moved = inputs.filter((input) => before.get(input) !== after.get(input));
    assert.ok(moved.every((input) => before.get(input) === 'runner-b'));
    assert.equal(moved.length, [...before.values()].filter((owner) => owner === 'runner-b').length);
  });

  it('has no owner without members', () => {
    assert.equal(ownerOf('x', []), undefined);
  });
});
