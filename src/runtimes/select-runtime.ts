import { isPythondError } from '../errors.js';
import { RuntimeEvents } from '../telemetry/events/runtime-events.js';
import { RUNTIMES } from './registry.js';
import type { Runtime, RuntimeContext, RuntimePlugin } from './runtime.js';

/**
 * Opens the runtime `[runner] executor` names. `auto` tries each runtime in
 * the registry's order and takes the first that can run the inputs here,
 * warning loudly when that one does not isolate collectors; a named runtime
 * that cannot run them is an error that says why.
 */
export async function selectRuntime(context: RuntimeContext): Promise<Runtime> {
  const { executor } = context.config.runner;
  if (executor !== 'auto') return RUNTIMES[executor]!.open(context);
  return openFirst(Object.entries(RUNTIMES), context, []);
}

async function openFirst(candidates: [string, RuntimePlugin][], context: RuntimeContext, problems: string[]): Promise<Runtime> {
  const [[kind, plugin], ...rest] = candidates as [[string, RuntimePlugin], ...[string, RuntimePlugin][]];
  try {
    const runtime = await plugin.open(context);
    if (problems.length > 0 && !plugin.isolated) new RuntimeEvents(context.log, context.metrics).fellBackUnisolated(kind, problems);
    return runtime;
  } catch (err) {
    if (rest.length === 0 || !isPythondError(err)) throw err;
    return openFirst(rest, context, [...problems, err.message]);
  }
}
