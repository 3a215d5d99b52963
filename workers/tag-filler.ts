/**
 * Adds the tags a task's points get besides their own (an input's `tags`,
 * then the global tags), each only where the point does not have it: the
 * point's own tag wins. Resolved once per point, here in the workers.
 */
export class TagFiller {
  readonly #extra: readonly [string, string][];
  /** A line-protocol series' tags are one frozen object (line-protocol.ts): each gets one filled copy, frozen and shared in turn. */
  readonly #filled = new WeakMap<object, Readonly<Record<string, string>>>();

  /** `extra`: the tags to add, the ones that win first (`{ ...global, ...input }` spread the other way round). */
  constructor(extra: Readonly<Record<string, string>>) {
    this.#extra = Object.entries(extra);
  }

  /** `tags` with the missing ones added: changed in place, or for a frozen (shared) object, its filled copy. */
  fill(tags: Record<string, string>): Record<string, string> {
    if (this.#extra.length === 0) return tags;
    if (!Object.isFrozen(tags)) {
      for (const [key, value] of this.#extra) if (!Object.hasOwn(tags, key)) tags[key] = value;
      return tags;
    }
    let filled = this.#filled.get(tags);
    if (filled === undefined) {
      filled = this.#extra.every(([key]) => Object.hasOwn(tags, key)) ? tags : Object.freeze(this.fill({ ...tags }));
      this.#filled.set(tags, filled);
    }
    return filled as Record<string, string>;
  }
}
