import { createHash } from 'node:crypto';

/**
 * Labels on every container pythond creates. `instance` ties a container to
 * one runner installation (its data_dir), so a restarted runner removes what
 * its crashed predecessor left behind, and never another runner's containers.
 */
export const LABEL_MANAGED = 'io.pythond.managed';
export const LABEL_INPUT = 'io.pythond.input';
export const LABEL_INSTANCE = 'io.pythond.instance';

export function instanceId(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
}

export function containerLabels(instance: string, input: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_INPUT]: input, [LABEL_INSTANCE]: instance };
}
