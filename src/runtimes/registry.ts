import { dockerRuntime } from './docker/docker-runtime.js';
import { processRuntime } from './process/process-runtime.js';
import type { RuntimePlugin } from './runtime.js';

/**
 * Every runtime pythond can start collector hosts in, by its name in
 * `[runner] executor`, in the order `auto` tries them.
 */
export const RUNTIMES: Readonly<Record<string, RuntimePlugin>> = {
  docker: dockerRuntime,
  process: processRuntime,
};
