import { displayPath } from '../discovery/discover.js';
import type { InputDependencies } from '../config/load.js';

/**
 * How pythond runs pip for an input's requirements, in an image build and
 * in a virtual environment alike, and how its failures read.
 */

/** What pip writes to its --log when an index does not answer (its normal output says nothing of it). */
export const UNREACHABLE_INDEX = 'Could not fetch URL';

/**
 * pip's arguments to install `requirements` from where the input's config
 * says: the index at pip_index_url, the folder of wheels at pip_find_links
 * (`wheels`: that folder as pip sees it), and with the folder alone nowhere
 * else (`--no-index`). One try of 10 s per URL: an index that does not
 * answer fails the build in seconds, saying so (see pipProblem), instead of
 * pip's minutes of retries.
 */
export function pipInstallArguments(deps: InputDependencies, paths: { requirements: string[]; wheels?: string; log: string }): string[] {
  const index = deps.indexUrl ? ['--index-url', deps.indexUrl] : deps.findLinks ? ['--no-index'] : [];
  return [
    'install',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--no-input',
    '--progress-bar',
    'off',
    '--retries',
    '0',
    '--timeout',
    '10',
    '--log',
    paths.log,
    ...index,
    ...(paths.wheels ? ['--find-links', paths.wheels] : []),
    ...paths.requirements.flatMap((file) => ['-r', file]),
  ];
}

/**
 * Why pip failed, from its output (with the UNREACHABLE_INDEX lines of its
 * log): no index answered, or a requirement is nowhere to be found (named,
 * with its requirements.txt); undefined when the output says neither.
 */
export function pipProblem(output: readonly string[], deps: InputDependencies): string | undefined {
  const missing = output
    .map((line) => /(?:No matching distribution found for|Could not find a version that satisfies the requirement) (\S+)/.exec(line)?.[1])
    .filter((requirement) => requirement !== undefined)
    .pop();
  if (!missing) return undefined;
  const unreachable = output.find((line) => line.includes(`${UNREACHABLE_INDEX} `) && /:\/\//.test(line));
  if (unreachable) {
    const where = deps.indexUrl ? `the index at pip_index_url (${deps.indexUrl})` : "pip's default index";
    return `${where} cannot be reached (${fetchFailure(unreachable)}), so ${missing} cannot be installed; set pip_find_links to a folder of wheels to install offline, or pip_index_url to an index this machine reaches`;
  }
  const name = missing.split(/[<>=!~;[ ]/)[0]!.toLowerCase();
  const file = deps.requirements.find(({ text }) => text.toLowerCase().includes(name))?.file;
  const from = file ? ` (from ${displayPath(file)})` : '';
  const folder = deps.findLinks ? displayPath(deps.findLinks.folder) : undefined;
  if (!deps.indexUrl && folder)
    return `requirement ${missing}${from} is not among the wheels of pip_find_links (${folder}); add its wheel there (\`pip download '${missing}' -d ${folder}\` where an index is reachable) or set pip_index_url`;
  const where = deps.indexUrl
    ? `the index at pip_index_url (${deps.indexUrl})${folder ? ` or the wheels of pip_find_links (${folder})` : ''}`
    : "pip's default index";
  return `requirement ${missing}${from} is not in ${where}: check its name and version`;
}

/** `https://x/simple/y/: [Errno -2] Name or service not known` out of pip's long "Could not fetch URL" line. */
function fetchFailure(line: string): string {
  const url = /Could not fetch URL (\S+?):? /.exec(line)?.[1] ?? 'the index';
  const cause = /\[Errno [^\]]+\][^'")]*/.exec(line)?.[0] ?? /(connection error|timed out|SSLError|ProxyError)/i.exec(line)?.[0] ?? 'no answer';
  return `${url}: ${cause.trim()}`;
}
