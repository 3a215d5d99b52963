import { createHash } from 'node:crypto';
import { stripVTControlCharacters } from 'node:util';
import type { InputConfig } from '../config/load.js';
import { PythondError } from '../errors.js';
import type { BuildListener } from './runtime.js';

/**
 * What the builds of inputs' dependencies share, images and virtual
 * environments alike: their key, their output, their error.
 */

/**
 * The key of what gets built for `input` over `base` (what the runtime
 * builds on: the image's Dockerfile with the base image's id, the
 * interpreter of a virtual environment): the same key, the same build, so
 * one built earlier under it is reused.
 */
export function buildKey(base: string, input: InputConfig): string {
  return createHash('sha256').update(`${base}\0${input.name}\0${input.dependencies.digest}`).digest('hex').slice(0, 16);
}

/**
 * Which of an input's builds (image tags, environment folders) go once
 * `current` is built: all but it and the one before, which is the one the
 * input ran (`previous`: a reload trying `current` may still fall back to
 * it) or, at the first build of this run, the newest other one.
 */
export function outdatedBuilds(builds: readonly string[], current: string, previous: string | undefined, builtAt: (build: string) => number): string[] {
  const others = builds.filter((build) => build !== current).sort((a, b) => builtAt(b) - builtAt(a));
  const before = previous !== undefined && others.includes(previous) ? previous : others[0];
  return others.filter((build) => build !== before);
}

/** Lines of a failed build's output its error carries: enough for apt's or pip's complaint and what led to it. */
const TAIL_LINES = 30;
/** A longer line is cut (a Dockerfile step echoes its whole script); pip's longest complaints fit. */
const MAX_LINE = 1000;

/**
 * The output of one build as it comes (chunks holding several lines, or
 * part of one): each line goes to the listener, and the last ones are kept
 * for the error if the build fails.
 */
export class BuildOutput {
  readonly #listener: BuildListener;
  readonly #tail: string[] = [];
  #partial = '';

  constructor(listener: BuildListener) {
    this.#listener = listener;
  }

  write(text: string): void {
    const lines = (this.#partial + text).split(/\r?\n|\r/);
    this.#partial = lines.pop()!;
    for (const line of lines) this.#line(line);
  }

  /** The lines so far, the last one even without its newline, at most the last TAIL_LINES. */
  tail(): string[] {
    if (this.#partial) {
      this.#line(this.#partial);
      this.#partial = '';
    }
    return [...this.#tail];
  }

  #line(raw: string): void {
    // Docker colours a RUN step's stderr; the log and the status API want plain text.
    const plain = stripVTControlCharacters(raw).trimEnd();
    if (!plain.trim()) return;
    const line = plain.length > MAX_LINE ? `${plain.slice(0, MAX_LINE)}…` : plain;
    this.#listener.output(line);
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}

/** An input's image or virtual environment could not be built: why, in one sentence, and the end of the build's output. */
export class BuildError extends PythondError {
  readonly output: readonly string[];

  constructor(message: string, output: readonly string[], options?: { cause?: unknown }) {
    super('BUILD_FAILED', message, options);
    this.output = output;
  }
}
