#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { checkCommand } from './cli/check.js';
import { runCommand } from './cli/run.js';
import { validateCommand } from './cli/validate.js';
import { isPythondError } from './errors.js';
import { PLUGINS } from './plugins.js';
import { VERSION } from './version.js';

const USAGE = `pythond ${VERSION}: runs DataKit-style Python collectors in isolated containers

usage:
  pythond run [--config FILE]          run the collectors of FILE (default: ./pythond.toml, else the embedded demo config)
  pythond check DIR [--executor auto|docker|process] [--collector NAME] [--image IMAGE]
                                       run every collector in DIR (a python.d folder) once; points as JSON Lines on stdout
  pythond validate [--config FILE]     check a config and list the collector scripts it finds
  pythond --version
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      executor: { type: 'string' },
      collector: { type: 'string' },
      image: { type: 'string' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  switch (command) {
    case 'run':
      return runCommand({ config: values.config });
    case 'validate':
      return validateCommand({ config: values.config });
    case 'check': {
      const executor = values.executor ?? 'auto';
      if (rest.length !== 1 || !PLUGINS.runtimes.concat('auto').includes(executor)) break;
      return checkCommand({ dir: rest[0]!, executor, collector: values.collector, image: values.image });
    }
    case undefined:
      if (values.help) {
        process.stdout.write(USAGE);
        return 0;
      }
  }
  process.stderr.write(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`pythond: ${isPythondError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = 1;
  },
);
