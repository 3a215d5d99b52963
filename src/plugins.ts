import type { ConfigPlugins } from './config/load.js';
import { OUTPUT_PLUGINS } from './outputs/registry.js';
import { RUNTIMES } from './runtimes/registry.js';

/** Every plugin pythond has, as the config reader is given them: the outputs, and the runtimes `[runner] executor` names. */
export const PLUGINS: ConfigPlugins = {
  outputs: OUTPUT_PLUGINS,
  runtimes: Object.keys(RUNTIMES),
};
