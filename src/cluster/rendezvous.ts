import { createHash } from 'node:crypto';

/** A 48-bit score of `member` for `input`: a uniform draw every member computes alike. */
function score(member: string, input: string): number {
  return createHash('sha256').update(member).update('\0').update(input).digest().readUIntBE(0, 6);
}

/**
 * The member that should run `input`: rendezvous (highest random weight)
 * hashing, so every replica that sees the same members picks the same
 * owner, and a member joining or leaving moves only the inputs it wins or
 * held (about 1/N of them). Ties, vanishingly rare, go to the smaller name.
 */
export function ownerOf(input: string, members: Iterable<string>): string | undefined {
  let best: { member: string; score: number } | undefined;
  for (const member of members) {
    const s = score(member, input);
    if (!best || s > best.score || (s === best.score && member < best.member)) best = { member, score: s };
  }
  return best?.member;
}
