import { parseArgs } from 'node:util';
import { closest } from '../schema/fields.js';

/** One option of one command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the help (`FILE`); string options only. */
  value?: string;
  /** The values a string option accepts, when it is a closed set. */
  choices?: readonly string[];
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** What the options of a command parse to: strings and booleans, absent when not given. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K] extends { type: 'string' } ? string : O[K] extends { type: 'boolean' } ? boolean : string | boolean;
};

export interface CommandArgs<O extends OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
}

/** A subcommand: its help, its options, how many arguments it takes, and what it does. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** Its forms, as the usage shows them, without `pythond <name>`: `[--config FILE]`. */
  usage: string[];
  /** The arguments it takes after its options, at most. */
  maxPositionals: number;
  options: O;
  /** What `--help` says after the options. */
  details: string;
  run(args: CommandArgs<O>): Promise<number>;
}

/** Types a command's values by its option specs. */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

/** A command line pythond cannot run: `message` names what is wrong; exit code 2. */
export class UsageError extends Error {
  /** The command whose usage to show; none for a missing or unknown command. */
  readonly command: Command | undefined;

  constructor(message: string, command?: Command) {
    super(message);
    this.command = command;
  }
}

export type ParsedCommandLine =
  | { kind: 'help'; command?: Command }
  | { kind: 'version' }
  | { kind: 'command'; command: Command; args: CommandArgs<OptionSpecs> };

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

/** `--config FILE`, read as `pythond run` reads it. */
export const CONFIG_OPTION = {
  type: 'string',
  short: 'c',
  value: 'FILE',
  help: 'the config file (default: $PYTHOND_CONFIG, else ./pythond.toml, else the embedded demo config)',
} as const satisfies OptionSpec;

/** `--conf-d DIR`, read as `[runner] conf_d`, which it replaces. */
export const CONF_D_OPTION = {
  type: 'string',
  value: 'DIR',
  help: 'read the [[inputs.pythond]] blocks of every *.conf under DIR too, as DataKit reads conf.d (default: [runner] conf_d, else conf.d beside the config file)',
} as const satisfies OptionSpec;

/**
 * Reads `pythond <command> [options] [arguments]` against each command's own
 * options, with node:util's parseArgs (in its lenient mode, so that every
 * mistake is reported here, in one line that names it, rather than as
 * parseArgs' exception). `--help` anywhere after a command asks for that
 * command's help.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): ParsedCommandLine {
  const [first, ...rest] = argv;
  const only = (parsed: ParsedCommandLine): ParsedCommandLine => {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])} after ${first}`);
    return parsed;
  };
  if (first === undefined) throw new UsageError('missing command');
  if (first === '--help' || first === '-h') return only({ kind: 'help' });
  if (first === '--version' || first === '-v') return only({ kind: 'version' });
  if (first === 'help') {
    const [topic, ...more] = rest;
    if (more.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(more[0])} after help ${topic}`);
    return topic === undefined ? { kind: 'help' } : { kind: 'help', command: findCommand(topic, commands) };
  }
  if (first.startsWith('-')) throw new UsageError(`expected a command before ${first}; options come after the command`);
  const command = findCommand(first, commands);
  const args = parseCommandArgs(command, rest, commands);
  return args === 'help' ? { kind: 'help', command } : { kind: 'command', command, args };
}

function findCommand(name: string, commands: readonly Command[]): Command {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const hint = closest(
    name,
    commands.map((c) => c.name),
  );
  throw new UsageError(`unknown command ${JSON.stringify(name)}${hint ? ` (did you mean ${hint}?)` : ''}`);
}

function parseCommandArgs(command: Command, argv: string[], commands: readonly Command[]): CommandArgs<OptionSpecs> | 'help' {
  const specs: OptionSpecs = { ...command.options, help: HELP };
  const { tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return 'help';

  const fail = (message: string): never => {
    throw new UsageError(message, command);
  };
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (positionals.length === command.maxPositionals) fail(unexpectedArgument(command, token.value));
      positionals.push(token.value);
      continue;
    }
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec) fail(unknownOption(command, token.rawName, commands));
    const option = `--${token.name}`;
    if (Object.hasOwn(values, token.name)) fail(`${option} is given twice`);
    if (spec!.type === 'boolean') {
      if (token.value !== undefined) fail(`${option} takes no value`);
      values[token.name] = true;
      continue;
    }
    // Without a value, parseArgs' lenient mode would take the next option as one (`--config --help`).
    const value = token.value;
    if (value === undefined || value.trim() === '' || (!token.inlineValue && value.startsWith('-') && value !== '-')) {
      fail(`${option} needs a value (${spec!.value ?? 'VALUE'})`);
    }
    if (spec!.choices && !spec!.choices.includes(value!)) {
      fail(`${option} must be one of ${spec!.choices.join(', ')}; got ${JSON.stringify(value)}`);
    }
    values[token.name] = value!;
  }
  return { values, positionals };
}

function unknownOption(command: Command, rawName: string, commands: readonly Command[]): string {
  const name = rawName.replace(/^-+/, '');
  if (rawName.startsWith('--')) {
    const owners = commands.filter((c) => c !== command && Object.hasOwn(c.options, name)).map((c) => c.name);
    if (owners.length > 0) return `${rawName} is an option of ${owners.join(' and ')}, not of ${command.name}`;
  }
  const hint = closest(name, [...Object.keys(command.options), 'help']);
  return `unknown option ${rawName}${hint ? ` (did you mean --${hint}?)` : ''}`;
}

function unexpectedArgument(command: Command, value: string): string {
  // `pythond validate other.toml` once validated ./pythond.toml instead.
  const hint = value.endsWith('.toml') && Object.hasOwn(command.options, 'config') ? `; a config file is given as --config ${value}` : '';
  return `unexpected argument ${JSON.stringify(value)}${hint}`;
}

/** `usage: pythond check DIR ...`, one line per form of the command. */
export function commandUsage(command: Command): string {
  return command.usage.map((form, i) => `${i === 0 ? 'usage:' : '      '} pythond ${command.name} ${form}`.trimEnd()).join('\n');
}

/** What `pythond <command> --help` prints. */
export function commandHelp(command: Command): string {
  const rows = Object.entries({ ...command.options, help: HELP }).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return [flag, spec.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const options = rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n');
  return `${commandUsage(command)}\n\n${command.summary}\n\noptions:\n${options}\n\n${command.details.trim()}\n`;
}

/** `usage: pythond <command> [options]` and every command in one line. */
export function generalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: pythond <command> [options]

commands:
${list}

pythond help <command> (or pythond <command> --help) shows a command's options; pythond --version its version and the protocol version it speaks with collector hosts.
`;
}

/** What `pythond --help` prints. */
export function generalHelp(commands: readonly Command[], version: string): string {
  return `pythond ${version}: runs DataKit-style Python collectors in isolated containers\n\n${generalUsage(commands)}`;
}
