import { loadConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { ClusterStatus, CollectorsReport } from '../http/api-types.js';
import { parseListen } from '../schema/addresses.js';
import { PLUGINS } from '../plugins.js';
import { CONFIG_OPTION, defineCommand, UsageError } from './command-line.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: "show a running pythond's inputs, collectors and outputs",
  usage: ['[--url URL | --config FILE]'],
  maxPositionals: 0,
  options: {
    url: { type: 'string', value: 'URL', help: "the runner's HTTP API (default: the config's [runner] listen)" },
    config: { ...CONFIG_OPTION, help: 'read the address from this config (default: ./pythond.toml, else 127.0.0.1:9529)' },
  },
  details: `
Asks a running \`pythond run\` (GET /v1/collectors) and prints one row per
collector: its state (and failure state: backing off, quarantined), when it last ran, how long that took, how many runs and
failures it had, and its last error; then inputs that cannot start or load,
the outputs, and errors collectors reported with set_lasterror(). A runner in
a cluster ([cluster]) also shows the members (GET /v1/cluster), and each
shared input another member runs as standby, with that member.

Exit 0 when the runner answered, 1 when it did not.`,
  run: async ({ values }) => {
    if (values.url !== undefined && values.config !== undefined) throw new UsageError('give --url or --config, not both');
    const url = values.url ?? apiUrl(loadConfig({ file: values.config }, PLUGINS).runner.listen);
    const report = await fetchReport(url);
    if (typeof report === 'string') {
      process.stderr.write(`pythond status: ${report}\n`);
      return 1;
    }
    // A member of a cluster: its view of the members too.
    const cluster = report.inputs.some((input) => input.cluster) ? await fetchCluster(url) : undefined;
    process.stdout.write(renderStatus(report, url, Date.now(), cluster));
    return 0;
  },
});

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
  try {
    return (await response.json()) as CollectorsReport;
  } catch (err) {
    return `${endpoint} did not answer JSON: ${errorMessage(err)}; is it a pythond?`;
  }
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
