import { FieldError, readField, stringMap, withDefault, type Field, type Issue } from '../schema/fields.js';
import type { HostIdentity } from './host-identity.js';

/**
 * DataKit's global tags: `[global_host_tags]` go on the points of inputs
 * that collect this machine's data, `[global_election_tags]` on those of
 * inputs one cluster member runs at a time (`cluster = "one"` under
 * `[cluster]`), and on write API points that ask for them. A point keeps a
 * tag it has, and an input's own `tags` come before these.
 */
export interface GlobalTags {
  host: Readonly<Record<string, string>>;
  election: Readonly<Record<string, string>>;
}

/** DataKit's default: `host` is this machine's name. A `[global_host_tags]` table replaces it; an empty one adds nothing. */
export const DEFAULT_HOST_TAGS: Readonly<Record<string, string>> = { host: '__datakit_hostname' };

/** Values that stand for this machine, in both of DataKit's spellings. */
const PLACEHOLDERS: Record<string, (host: HostIdentity) => string> = {
  __datakit_hostname: (host) => host.name,
  $datakit_hostname: (host) => host.name,
  __datakit_ip: (host) => host.ip,
  $datakit_ip: (host) => host.ip,
};

const hasLineBreak = (text: string): boolean => /[\r\n]/.test(text);

/** Tags as a point carries them: a table of strings, keys not empty, neither with a line break (line protocol could not carry it). */
export const tagMap = (): Field<Record<string, string>> => ({
  read(value) {
    const tags = stringMap().read(value);
    for (const [key, item] of Object.entries(tags)) {
      if (key.trim() === '' || hasLineBreak(key)) throw new FieldError(`has the key ${JSON.stringify(key)}: a tag key must not be empty or hold a line break`);
      if (hasLineBreak(item)) throw new FieldError(`.${key} must not hold a line break`);
    }
    return tags;
  },
});

/** `[global_host_tags]` and `[global_election_tags]` of the config's top level, their placeholders resolved for `host`. */
export function readGlobalTags(top: Record<string, unknown>, host: HostIdentity, issues: Issue[]): GlobalTags {
  const resolve = (tags: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(tags ?? {}).map(([key, value]) => [key, PLACEHOLDERS[value]?.(host) ?? value]));
  return {
    host: resolve(
      readField(
        top.global_host_tags,
        withDefault(tagMap(), () => ({ ...DEFAULT_HOST_TAGS })),
        'global_host_tags',
        issues,
      ),
    ),
    election: resolve(readField(top.global_election_tags, withDefault(tagMap(), {}), 'global_election_tags', issues)),
  };
}
