import type { Config, InputConfig, OutputConfig } from '../config/load.js';

/**
 * Input keys a running input takes as they are, without a new host: they
 * bound or shape its ticks, not the process or container its collectors
 * live in (`cluster` says which replica runs it: the app decides that;
 * `globalTags` are the config's global tags as they apply to it).
 */
const LIVE_INPUT_KEYS = ['concurrency', 'timeout', 'tags', 'globalTags', 'max_points', 'overlap', 'cluster', 'pull'] as const;

/**
 * Runner keys applied to the running runner; every other key needs a
 * restart. `image`, `pull` and the pip keys reach the inputs that use them
 * (an input whose image changes gets new hosts, and a new image);
 * `hostname` reaches every input (their containers' name, their tags);
 * `conf_d` is read by the reload itself.
 */
const LIVE_RUNNER_KEYS = new Set([
  'concurrency',
  'hostname',
  'conf_d',
  'host_starts',
  'shutdown_timeout',
  'image',
  'pull',
  'pip_index_url',
  'pip_find_links',
  'quarantine_after',
  'quarantine_interval',
]);

/** What a reload changes, input by input: nothing is applied here. */
export interface ReloadPlan {
  /** Inputs whose hosts stay: `live` lists the keys they take without a new host (empty: unchanged). */
  keep: { next: InputConfig; live: string[] }[];
  /** Inputs that need new hosts (their code, or a key such as `memory` or `cmd`, changed): tried before they replace the old. */
  restart: { next: InputConfig; why: string[] }[];
  add: InputConfig[];
  /** Names of inputs no longer configured. */
  remove: string[];
  outputs: { add: OutputConfig[]; remove: OutputConfig[] };
  /** Runner keys that changed: applied now, or only at the next restart. */
  runner: { live: string[]; restart: string[] };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The keys of an input that differ between two versions, `code` when its files did. */
function changedKeys(current: InputConfig, next: InputConfig): string[] {
  const ignored = new Set(['key', 'source', 'discovered', 'codeDigest']);
  const keys = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter((key) => !ignored.has(key));
  const changed = keys.filter((key) => !same(current[key as keyof InputConfig], next[key as keyof InputConfig]));
  return current.codeDigest === next.codeDigest ? changed : [...changed, 'code'];
}

/**
 * How to go from the running config to `next`. `pulled` names the inputs
 * whose image a pull at this reload changed (`pull = "always"`): they get
 * new hosts, as for a new `image` (`pulled image` says why).
 */
export function planReload(current: Config, next: Config, pulled: ReadonlySet<string> = new Set()): ReloadPlan {
  const plan: ReloadPlan = { keep: [], restart: [], add: [], remove: [], outputs: { add: [], remove: [] }, runner: { live: [], restart: [] } };
  const running = new Map(current.inputs.map((input) => [input.name, input]));
  for (const input of next.inputs) {
    const old = running.get(input.name);
    running.delete(input.name);
    if (!old) {
      plan.add.push(input);
      continue;
    }
    const changed = changedKeys(old, input);
    if (pulled.has(input.name)) changed.push('pulled image');
    // A timeout of 0 makes the input's collectors services, which are scheduled differently: that needs its hosts anew.
    const becomesService = changed.includes('timeout') && (old.timeout === 0 || input.timeout === 0);
    const needHost = changed.filter((key) => !(LIVE_INPUT_KEYS as readonly string[]).includes(key) || (key === 'timeout' && becomesService));
    if (needHost.length > 0) plan.restart.push({ next: input, why: needHost });
    else plan.keep.push({ next: input, live: changed });
  }
  plan.remove = [...running.keys()];

  const outputKey = (output: OutputConfig) => `${output.id} ${JSON.stringify(output.options)}`;
  const currentOutputs = new Set(current.outputs.map(outputKey));
  const nextOutputs = new Set(next.outputs.map(outputKey));
  plan.outputs.add = next.outputs.filter((output) => !currentOutputs.has(outputKey(output)));
  plan.outputs.remove = current.outputs.filter((output) => !nextOutputs.has(outputKey(output)));

  for (const key of new Set([...Object.keys(current.runner), ...Object.keys(next.runner)])) {
    const k = key as keyof Config['runner'];
    if (same(current.runner[k], next.runner[k])) continue;
    (LIVE_RUNNER_KEYS.has(key) ? plan.runner.live : plan.runner.restart).push(key);
  }
  if (!same(current.gitRepos, next.gitRepos)) plan.runner.restart.push('git_repos');
  if (!same(current.cluster, next.cluster)) plan.runner.restart.push('cluster');
  return plan;
}
