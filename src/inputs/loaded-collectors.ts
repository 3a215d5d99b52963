import path from 'node:path';
import type { InputConfig } from '../config/load.js';
import type { CollectorInfo, HelloMessage, LoadError } from '../protocol/messages.js';

/** What an input's host loaded, as the input shows it. */
export interface LoadedCollectors {
  /** Its collectors, each with its file as the user wrote its dir and the input's interval over its own. */
  collectors: CollectorInfo[];
  /** The scripts that did not load, with the same files. */
  loadErrors: LoadError[];
  /** `running`: every script loaded; `degraded`: some did not; `failed`: there is no collector to run. */
  state: 'running' | 'degraded' | 'failed';
  /** Why, when not `running`. */
  error?: string;
}

/** `python.d/demo/broken.py:3` */
export const fileAndLine = ({ file, line }: { file: string; line?: number | null }): string => (line ? `${file}:${line}` : file);

/**
 * The collectors and load errors of `hello`, for `input`: files as the user
 * wrote their dirs (`demo/general.py`), whatever path the host sees them at
 * (a container's), and the input's `interval`, when it sets one, over the
 * collectors' own.
 */
export function loadedCollectors(input: InputConfig, hello: Pick<HelloMessage, 'collectors' | 'load_errors'>): LoadedCollectors {
  const files = new Map(
    input.discovered.flatMap((dir) => dir.modules.map(({ module, file }) => [module, path.join(dir.entry, path.relative(dir.path, file))] as const)),
  );
  const collectors = hello.collectors.map((c) => ({
    ...c,
    file: files.get(c.module) ?? c.file,
    interval: input.interval === undefined ? c.interval : input.interval / 1000,
  }));
  const loadErrors = hello.load_errors.map((e) => ({ ...e, file: files.get(e.module) ?? e.file }));
  const failedScripts = loadErrors.map((failed) => `${fileAndLine(failed)}: ${failed.error}`).join('; ');
  if (collectors.length === 0) {
    const error = failedScripts
      ? `no collector could be loaded: ${failedScripts}`
      : `no DataKitFramework collector in ${input.dirs.join(', ')} (a class that subclasses DataKitFramework and overrides run())`;
    return { collectors, loadErrors, state: 'failed', error };
  }
  if (loadErrors.length === 0) return { collectors, loadErrors, state: 'running' };
  return { collectors, loadErrors, state: 'degraded', error: `${loadErrors.length} script(s) failed to load: ${failedScripts}` };
}

/** What is wrong with a collector's `interval` and what runs instead, when the class's value was not a number > 0. */
export function badIntervalMessage(collector: CollectorInfo, inputIntervalMs: number | undefined): string | undefined {
  if (collector.bad_interval === undefined) return undefined;
  const instead =
    inputIntervalMs === undefined
      ? `it runs every ${collector.interval} s instead (DataKit's default)`
      : `the input's interval (${inputIntervalMs / 1000} s) applies`;
  return `collector ${collector.id} has interval = ${collector.bad_interval}, which is not a number of seconds > 0; ${instead}`;
}
