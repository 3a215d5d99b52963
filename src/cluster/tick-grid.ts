import { createHash } from 'node:crypto';

/**
 * The first due time (epoch ms, after `nowEpochMs`) of a collector of a
 * shared input, on a grid every member computes alike: steps of its
 * interval from a phase hashed from the input's and the collector's names.
 * A member that takes an input over goes on ticking it where the previous
 * owner would have, so a hand-off neither ticks an interval twice nor
 * shifts the schedule; the phases spread the inputs over the interval.
 */
export function nextGridTick(input: string, collector: string, intervalMs: number, nowEpochMs: number): number {
  const phase = createHash('sha256').update(input).update('\0').update(collector).digest().readUIntBE(0, 6) % intervalMs;
  return phase + Math.ceil((nowEpochMs - phase) / intervalMs) * intervalMs;
}
