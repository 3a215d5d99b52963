import path from 'node:path';
import type { InputConfig, InputDependencies } from '../../config/load.js';
import { pipInstallArguments, UNREACHABLE_INDEX } from '../pip.js';
import { COLLECTOR_USER } from './container-spec.js';
import { LABEL_BUILD } from './labels.js';

/**
 * Where an input's requirements go in its image: a virtual environment that
 * sees the base's own packages (apt's included), first on PATH, so the
 * input's `cmd` (found on PATH, as `python3` is) imports what
 * requirements.txt pins before anything else.
 */
const VENV = '/opt/pythond/venv';

/** Where the requirements stage finds the build context's files. */
const BUILD_DIR = '/tmp/pythond-build';

/** A file of the build context: given text, or a file of this machine. */
type ContextFile = { name: string; text: string } | { name: string; path: string };

/** What `docker build` gets for an input's image: the Dockerfile and the files it copies. */
export interface ImageRecipe {
  dockerfile: string;
  /** The folders COPY names, there even when empty (a wheels folder without a wheel yet). */
  folders: string[];
  files: ContextFile[];
}

/**
 * The build of an input's image, FROM its base's image id (the base cannot
 * move under a tag), in two stages. `requirements` makes the virtual
 * environment with pip, from the context's requirements and wheels; the
 * image itself is the base, plus the apt packages, plus that environment
 * alone: the wheels and pip's leftovers stay behind in the first stage.
 * Every stage carries `build` as a label, so what a build leaves behind
 * (the first stage, the steps of a failed one) can be found and removed.
 */
export function imageRecipe(base: string, build: string, input: InputConfig): ImageRecipe {
  const deps = input.dependencies;
  const files: ContextFile[] = deps.requirements.map(({ text }, i) => ({ name: `requirements/${i}.txt`, text }));
  for (const name of deps.findLinks?.files ?? []) files.push({ name: `wheels/${name}`, path: path.join(deps.findLinks!.folder, name) });
  const folders = deps.requirements.length === 0 ? [] : deps.findLinks ? ['requirements/', 'wheels/'] : ['requirements/'];
  const stage = [`LABEL ${LABEL_BUILD}=${build}`, 'USER root'];
  const lines: string[] = [];
  if (deps.requirements.length > 0) {
    lines.push(`FROM ${base} AS requirements`, ...stage, ...folders.map((folder) => `COPY ${folder} ${BUILD_DIR}/${folder}`));
    lines.push(run(pipScript(input.cmd, deps)));
  }
  lines.push(`FROM ${base}`, ...stage);
  if (deps.apt.length > 0) lines.push(run(aptScript(deps.apt)));
  if (deps.requirements.length > 0) lines.push(`COPY --from=requirements ${VENV} ${VENV}`, `ENV PATH=${VENV}/bin:$PATH`);
  lines.push(`USER ${COLLECTOR_USER}`);
  return { dockerfile: `${lines.join('\n')}\n`, folders, files };
}

/** Why the apt step failed, from the build's output: the mirror cannot be reached, or a package is not in it; undefined when neither. */
export function aptProblem(output: readonly string[]): string | undefined {
  const unreachable = output.find((line) => /Temporary failure resolving|Could not resolve|Could not connect|Failed to fetch|Connection failed/.test(line));
  const missing = output.map((line) => /Unable to locate package (\S+)/.exec(line)?.[1]).filter((name) => name !== undefined);
  if (unreachable)
    return `apt cannot reach the Debian mirror of the base image's apt sources from the build (${unreachable.replace(/^[EW]: /, '')}); the build needs that mirror, or a base image that has the packages already`;
  if (missing.length > 0)
    return `Debian package ${missing.join(', ')} is not in the base image's apt sources: check the name (\`apt-cache search <name>\` on a machine with the same Debian release)`;
  return undefined;
}

/** A RUN step of a multi-line script, in exec form: no Dockerfile line continuations to get wrong. */
const run = (script: string): string => `RUN ${JSON.stringify(['/bin/sh', '-ec', script])}`;

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

// Package descriptions in other languages are 6 MB of indexes nobody reads here.
const APT_UPDATE = 'apt-get update -q -o Acquire::Languages=none';
const APT_INSTALL = 'apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0';

/** apt packages in one layer, with apt's indexes and caches (tens of MB) gone before the layer is written. */
function aptScript(packages: readonly string[]): string {
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    APT_UPDATE,
    `${APT_INSTALL} ${packages.map(quote).join(' ')}`,
    'apt-get clean',
    'rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin',
  ].join('\n');
}

/**
 * The virtual environment, of the input's own `cmd`, and pip. pip is the
 * base's own when it has one (a pip module, or Debian's pip wheel, which
 * pythond-python:3 ships), else Debian's pip wheel from apt. When pip
 * fails, the lines of its log that say an index did not answer are
 * printed, for pipProblem.
 */
function pipScript(cmd: string, deps: InputDependencies): string {
  const python = `${VENV}/bin/python3`;
  const log = `${BUILD_DIR}/pip.log`;
  const pip = pipInstallArguments(deps, {
    requirements: deps.requirements.map((_, i) => `${BUILD_DIR}/requirements/${i}.txt`),
    wheels: deps.findLinks ? `${BUILD_DIR}/wheels` : undefined,
    log,
  });
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    `${quote(cmd)} -m venv --without-pip --system-site-packages ${VENV}`,
    `if ${python} -m pip --version >/dev/null 2>&1; then`,
    '  set -- -m pip',
    'else',
    '  if ! ls /usr/share/python-wheels/pip-*.whl >/dev/null 2>&1; then',
    `    ${APT_UPDATE}`,
    `    ${APT_INSTALL} python3-pip-whl`,
    '  fi',
    '  set -- "$(ls /usr/share/python-wheels/pip-*.whl | head -n 1)/pip"',
    'fi',
    `if ! ${python} "$@" ${pip.map(quote).join(' ')}; then`,
    `  grep -h ${quote(UNREACHABLE_INDEX)} ${log} >&2 || true`,
    '  exit 1',
    'fi',
  ].join('\n');
}
