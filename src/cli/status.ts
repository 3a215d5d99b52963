import { loadConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { ClusterStatus, CollectorsReport, HealthReport, Problem } from '../http/api-types.js';
import { parseListen } from '../schema/addresses.js';
import { PLUGINS } from '../plugins.js';
import { CONFIG_OPTION, defineCommand, UsageError } from './command-line.js';

/** How often `--watch` draws the status again: as often as the status page polls. */
const WATCH_EVERY_MS = 2000;

export const statusCommand = defineCommand({
  name: 'status',
  summary: "show a running pythond's inputs, collectors and outputs, and what is not healthy",
  usage: ['[--url URL | --config FILE] [--watch]'],
  maxPositionals: 0,
  options: {
    url: { type: 'string', value: 'URL', help: "the runner's HTTP API (default: the config's [runner] listen)" },
    config: { ...CONFIG_OPTION, help: 'read the address from this config (default: $PYTHOND_CONFIG, else ./pythond.toml, else 127.0.0.1:9529)' },
    watch: { type: 'boolean', short: 'w', help: `draw it again every ${WATCH_EVERY_MS / 1000} s (on a terminal, in place, like top) until Ctrl-C` },
  },
  details: `
Asks a running \`pythond run\` (GET /v1/collectors) and prints one row per
collector: its state (and failure state: backing off, quarantined), when it last ran, how long that took, how many runs and
failures it had, and its last error; then inputs that cannot start or load,
the outputs, and errors collectors reported with set_lasterror(). A runner in
a cluster ([cluster]) also shows the members (GET /v1/cluster), and each
shared input another member runs as standby, with that member. Last, what
is not healthy now, one line each: failing collectors, inputs that cannot
start or load, outputs that cannot send or write, a reload that did not
apply; or "all healthy".

Exit 0 when all is healthy, 1 when something is not (the last lines say
what), 2 when no runner answers. With --watch, the exit code of the last
drawing, on Ctrl-C.`,
  run: async ({ values }) => {
    if (values.url !== undefined && values.config !== undefined) throw new UsageError('give --url or --config, not both');
    const url = values.url ?? apiUrl(loadConfig({ file: values.config }, PLUGINS).runner.listen);
    if (!values.watch) {
      const { text, code } = await snapshot(url);
      (code === EXIT_UNREACHABLE ? process.stderr : process.stdout).write(text);
      return code;
    }
    return watch(url);
  },
});

/** Exit codes: all healthy; something is not; no runner answers. */
const EXIT_HEALTHY = 0;
const EXIT_UNHEALTHY = 1;
const EXIT_UNREACHABLE = 2;

/** The status as text, with its exit code. */
async function snapshot(url: string): Promise<{ text: string; code: number }> {
  const report = await fetchReport(url);
  if (typeof report === 'string') return { text: `pythond status: ${report}\n`, code: EXIT_UNREACHABLE };
  // A member of a cluster: its view of the members too.
  const cluster = report.inputs.some((input) => input.cluster) ? await fetchCluster(url) : undefined;
  return { text: renderStatus(report, url, Date.now(), cluster), code: report.problems.length > 0 ? EXIT_UNHEALTHY : EXIT_HEALTHY };
}

/**
 * Draws the status every WATCH_EVERY_MS until SIGINT or SIGTERM: on a
 * terminal over the last drawing, else one after the other, each after a
 * blank line. Resolves with the last drawing's exit code.
 */
async function watch(url: string): Promise<number> {
  const terminal = process.stdout.isTTY === true;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let code = EXIT_UNREACHABLE;
  for (let first = true; ; first = false) {
    const drawn = await snapshot(url);
    code = drawn.code;
    const header = `every ${WATCH_EVERY_MS / 1000} s, Ctrl-C to stop; ${new Date().toLocaleTimeString()}\n`;
    process.stdout.write(terminal ? `\x1b[H\x1b[2J${header}${drawn.text}` : `${first ? '' : '\n'}${header}${drawn.text}`);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([stop.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), WATCH_EVERY_MS)))]);
    clearTimeout(timer);
    if (stopped) return code;
  }
}

/** Where a runner listening on `listen` is reached from this machine. */
function apiUrl(listen: string): string {
  const { host, port } = parseListen(listen);
  if (port === 0) throw new UsageError(`[runner] listen = "${listen}" picks a free port at start: give the runner's address with --url`);
  // A runner listening on every address is reached on the loopback one.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The runner's report, or why there is none (a sentence). */
async function fetchReport(url: string): Promise<CollectorsReport | string> {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/collectors`;
  let response: Response;
  try {
    response = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return `no pythond answers at ${url} (${cause?.code ?? cause?.message ?? errorMessage(err)}); is \`pythond run\` running there? (--url URL, --config FILE)`;
  }
  if (!response.ok) return `${endpoint} answered ${response.status}: ${(await response.text()).slice(0, 200)}`;
  let report: CollectorsReport;
  try {
    report = (await response.json()) as CollectorsReport;
  } catch (err) {
    return `${endpoint} did not answer JSON: ${errorMessage(err)}; is it a pythond?`;
  }
  return report.problems ? report : { ...report, problems: await olderRunnerProblems(url, report.version) };
}

/**
 * A runner older than 0.3 (the package upgraded, the service not restarted
 * yet) lists no problems: its /healthz says whether all is healthy, and
 * not healthy is one problem saying so.
 */
async function olderRunnerProblems(url: string, version: string): Promise<Problem[]> {
  const health = await fetch(`${url.replace(/\/+$/, '')}/healthz`, { signal: AbortSignal.timeout(10_000) })
    .then(async (response) => ((await response.json()) as HealthReport).status)
    .catch((err: unknown) => `nothing (${errorMessage(err)})`);
  if (health === 'ok') return [];
  return [{ about: 'runner', message: `this runner (pythond ${version}) does not list what is not healthy: its /healthz says ${health}` }];
}

/** The runner's view of its cluster, or why there is none (a sentence). */
async function fetchCluster(url: string): Promise<ClusterStatus | string> {
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/v1/cluster`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return `GET /v1/cluster answered ${response.status}`;
    return (await response.json()) as ClusterStatus;
  } catch (err) {
    return `GET /v1/cluster failed: ${errorMessage(err)}`;
  }
}

/** The report as a person reads it: a header, then aligned tables. */
function renderStatus(report: CollectorsReport, url: string, now: number, cluster?: ClusterStatus | string): string {
  const ago = (iso: string | undefined): string => (iso ? `${shortDuration(now - Date.parse(iso))} ago` : '-');
  const { host } = report.runner;
  const sections = [
    `pythond ${report.version} at ${url}: up ${shortDuration(report.uptimeMs)}, ${report.executor ?? 'no'} executor, host ${host.name} (from ${host.from})`,
  ];

  const rows = report.inputs.flatMap((input) => {
    // An input with no collector to show (starting, or failed) is one row with why; a degraded one shows its collectors, its load errors follow.
    if (input.collectors.length === 0) {
      const waiting = input.image && ['pulling', 'building'].includes(input.image.state) ? `${input.image.state} ${input.image.tag}` : undefined;
      const why = input.state === 'standby' && input.owner ? `runs on member ${input.owner}` : (waiting ?? firstLine(input.error));
      return [[input.input, '-', input.state, '-', '-', '-', '-', why]];
    }
    return input.collectors.map((c) => [
      input.input,
      c.collector,
      // Its failure state when it is not healthy: "failing, quarantined".
      c.health === 'healthy' ? c.state : `${c.state}, ${c.health.replace('_', ' ')}`,
      ago(c.lastRun),
      c.lastDurationMs === undefined ? '-' : `${c.lastDurationMs.toFixed(1)} ms`,
      String(c.runs),
      String(c.failures),
      firstLine(c.lastError),
    ]);
  });
  sections.push(table(['INPUT', 'COLLECTOR', 'STATE', 'LAST RUN', 'DURATION', 'RUNS', 'FAILURES', 'LAST ERROR'], rows));

  const loadErrors = report.inputs.flatMap((input) =>
    input.loadErrors.map((e) => `input ${input.input} cannot load ${e.line ? `${e.file}:${e.line}` : e.file}: ${firstLine(e.error)}`),
  );
  if (loadErrors.length > 0) sections.push(loadErrors.join('\n'));
  if (typeof cluster === 'string') sections.push(`cluster: ${cluster}`);
  else if (cluster) {
    const error = cluster.lastError ? `; etcd: ${firstLine(cluster.lastError)}` : '';
    sections.push(
      `cluster: member ${cluster.member} is ${cluster.state}, etcd ${cluster.etcd.join(', ')} prefix ${cluster.prefix}${error}\n${table(
        ['MEMBER', 'SINCE', 'LAST HEARTBEAT', 'INPUTS'],
        cluster.members.map((m) => [m.member + (m.member === cluster.member ? ' (this one)' : ''), ago(m.since), ago(m.lastHeartbeat), String(m.inputs)]),
      )}`,
    );
  }

  sections.push(
    table(
      ['OUTPUT', 'TO', 'BUFFERED', 'LAST SUCCESS', 'LAST ERROR'],
      report.outputs.map((o) => [
        o.id,
        o.target ?? '',
        o.series === undefined ? String(o.bufferedPoints) : `${o.series} series`,
        ago(o.lastSuccess),
        o.lastError ? `${firstLine(o.lastError)} (${ago(o.lastErrorAt)})` : '',
      ]),
    ),
  );
  if (report.lastErrors.length > 0) {
    sections.push(
      table(
        ['REPORTED BY', 'LAST ERROR (set_lasterror)', 'TIMES', 'LAST'],
        report.lastErrors.map((e) => [e.input, firstLine(e.error), String(e.count), ago(e.at)]),
      ),
    );
  }
  const { problems } = report;
  sections.push(problems.length === 0 ? 'all healthy' : [`not healthy (${problems.length}):`, ...problems.map((problem) => `  ${problem.message}`)].join('\n'));
  return `${sections.join('\n\n')}\n`;
}

/** Columns padded to their widest cell; the last one is left as it is. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n');
}

/** The first line of an error, cut to what a table row can show. */
function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n', 1)[0]!;
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** `850ms`, `12s`, `3m05s`, `2h03m`: precise enough to read at a glance. */
function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h${String(minutes % 60).padStart(2, '0')}m` : `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}
