import type { Schema, TableOf } from '../config/fields.js';
import { FileOutput, fileOutputSchema } from './file/file-output.js';
import type { Output } from './output.js';
import { StdoutOutput, stdoutOutputSchema } from './stdout/stdout-output.js';

interface OutputPlugin<S extends Schema> {
  /** The keys of one `[[outputs.<name>]]` table; relative paths are taken from `baseDir`. */
  schema(baseDir: string): S;
  create(options: TableOf<S>): Output;
}

const plugin = <S extends Schema>(p: OutputPlugin<S>): OutputPlugin<S> => p;

/** Every output pythond knows, by its name in `[[outputs.<name>]]`. */
export const OUTPUT_PLUGINS = {
  file: plugin({ schema: fileOutputSchema, create: (options) => new FileOutput(options) }),
  stdout: plugin({ schema: stdoutOutputSchema, create: () => new StdoutOutput() }),
};

export type OutputType = keyof typeof OUTPUT_PLUGINS;

export type OutputConfig = {
  [K in OutputType]: {
    type: K;
    /** `file[0]`, `stdout[0]`: the label used in logs and metrics. */
    id: string;
    options: TableOf<ReturnType<(typeof OUTPUT_PLUGINS)[K]['schema']>>;
  };
}[OutputType];

export function createOutput(config: OutputConfig): Output {
  const entry = OUTPUT_PLUGINS[config.type] as OutputPlugin<Schema>;
  return entry.create(config.options);
}
