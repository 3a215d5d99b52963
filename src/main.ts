#!/usr/bin/env -S node --max-semi-space-size=8
// The flag caps V8's young generation at 2 × 8 MiB (the default grows to 2 × 16 MiB at a few hundred ticks/s): about 15 MiB less
// resident memory at 500 ticks/s for no measurable cost in CPU or lateness (docs/benchmarks.md). `npm start`, the runner image and
// the `pythond` bin all run this file through this line.
import { checkCommand } from './cli/check.js';
import { commandHelp, commandUsage, generalHelp, generalUsage, parseCommandLine, UsageError, type Command } from './cli/command-line.js';
import { runCommand } from './cli/run.js';
import { statusCommand } from './cli/status.js';
import { validateCommand } from './cli/validate.js';
import { isPythondError } from './errors.js';
import { PROTOCOL_VERSION } from './protocol/messages.js';
import { VERSION } from './version.js';

const COMMANDS = [runCommand, checkCommand, validateCommand, statusCommand] as readonly Command[];

/** Runs one command line; resolves with the exit code: 0 done, 1 failed, 2 the command line is wrong. */
async function main(argv: string[]): Promise<number> {
  let command: Command | undefined;
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (parsed.kind === 'version') {
      process.stdout.write(`pythond ${VERSION} (collector host protocol ${PROTOCOL_VERSION})\n`);
      return 0;
    }
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.command ? commandHelp(parsed.command) : generalHelp(COMMANDS, VERSION));
      return 0;
    }
    command = parsed.command;
    return await command.run(parsed.args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // One line that says what is wrong, then how the command is used.
    const about = err.command ?? command;
    const usage = about ? `${commandUsage(about)}\n(pythond help ${about.name} lists its options)\n` : generalUsage(COMMANDS);
    process.stderr.write(`pythond${about ? ` ${about.name}` : ''}: ${err.message}\n${usage}`);
    return 2;
  }
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
