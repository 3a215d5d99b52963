import type { CollectorState, InputReport, OutputHealth, OutputStatus, Problem, ReloadResult } from './api-types.js';

/** What the problems are read from: the parts of /v1/collectors, and each output's health. */
export interface ProblemSources {
  inputs: readonly InputReport[];
  outputs: readonly OutputStatus[];
  outputHealth: readonly OutputHealth[];
  lastReload: ReloadResult | undefined;
}

/** The first line of an error: a problem is one sentence, its detail is where it comes from. */
const firstLine = (text: string | undefined): string => (text ?? '').split('\n', 1)[0]!;

/**
 * Everything that is not healthy now, one sentence each, for people: the
 * status page shows them on top, `pythond status` lists them and exits 1.
 * Collectors whose ticks fail, inputs that cannot start or load (or are
 * standby because etcd cannot be reached), outputs that cannot send or
 * write, and a last reload that did not apply all of a changed config.
 */
export function listProblems(sources: ProblemSources): Problem[] {
  const problems: Problem[] = [];
  for (const input of sources.inputs) {
    if (input.state === 'failed' || input.state === 'degraded' || (input.state === 'standby' && input.error))
      problems.push({ about: `input ${input.input}`, message: `input ${input.input} is ${input.state}: ${firstLine(input.error)}` });
    for (const collector of input.collectors) if (collector.state === 'failing' || collector.health !== 'healthy') problems.push(collectorProblem(collector));
  }
  const buffered = new Map(sources.outputs.map((output) => [output.id, output.bufferedPoints]));
  for (const output of sources.outputHealth) {
    if (output.ok) continue;
    const message = output.retrying
      ? `output ${output.output} cannot send (${buffered.get(output.output) ?? 0} point(s) wait in its buffer): ${firstLine(output.error)}`
      : `output ${output.output} is losing points: ${firstLine(output.error)}`;
    problems.push({ about: `output ${output.output}`, message });
  }
  problems.push(...reloadProblems(sources.lastReload));
  return problems;
}

function collectorProblem(c: CollectorState): Problem {
  const how = c.health === 'healthy' ? '' : ` (${c.health.replace('_', ' ')}, ${c.consecutiveFailures} failed tick(s) in a row)`;
  return { about: `collector ${c.input}/${c.collector}`, message: `${c.input}/${c.collector} is failing${how}: ${firstLine(c.lastError)}` };
}

/** A reload that changed nothing, or kept the running version of inputs whose new one did not load: until a reload applies. */
export function reloadProblems(reload: ReloadResult | undefined): Problem[] {
  if (!reload || reload.result === 'ok') return [];
  const what = `the last reload (${reload.trigger})`;
  if (reload.result === 'error') return [{ about: 'reload', message: `${what} changed nothing: ${firstLine(reload.error)}` }];
  return reload.failed.map((failed) => ({
    about: 'reload',
    message: `${what} kept the running version of input ${failed.input}, its new one does not load: ${firstLine(failed.error)}`,
  }));
}
