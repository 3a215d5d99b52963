import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { PLUGINS } from '../plugins.js';
import { displayPath } from '../discovery/discover.js';

/** `pythond validate`: checks a config (and finds its collector scripts) without running anything. */
export function validateCommand(options: { config?: string }): number {
  const config = loadConfig(options.config, PLUGINS);
  const out: string[] = [`config ${config.source} is valid`];
  out.push(
    `  executor ${config.runner.executor}, concurrency ${config.runner.concurrency}, listen ${config.runner.listen}, python_d ${displayPath(config.runner.python_d)}`,
  );
  for (const input of config.inputs) {
    const modules = input.discovered.flatMap((dir) => dir.modules.map((m) => `${m.module} (${displayPath(m.file)})`));
    out.push(`  input ${input.name} (${input.mode}): ${modules.length} script(s): ${modules.join(', ')}`);
  }
  for (const output of config.outputs) {
    const target =
      'path' in output.options ? ` ${displayPath(path.resolve(String(output.options.path)))}` : 'url' in output.options ? ` ${output.options.url}` : '';
    out.push(`  output ${output.id}${target}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
