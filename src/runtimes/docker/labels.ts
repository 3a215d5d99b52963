/**
 * Labels on every container pythond creates. `instance` ties a container to
 * one runner installation, so a restarted runner removes what its crashed
 * predecessor left behind, and never another runner's containers (see
 * instance-id.ts).
 */
export const LABEL_MANAGED = 'io.pythond.managed';
export const LABEL_INPUT = 'io.pythond.input';
export const LABEL_INSTANCE = 'io.pythond.instance';
/** On every stage of an input's image build, so what a build leaves behind (a first stage, a failed step) can be removed. */
export const LABEL_BUILD = 'io.pythond.build';

/** The labels of an input's containers, and of the images built for it (found by them when old ones are removed). */
export function containerLabels(instance: string, input: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_INPUT]: input, [LABEL_INSTANCE]: instance };
}
