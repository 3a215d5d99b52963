import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { terminate } from './child-exit.js';
import { freePort, waitFor } from './fixtures.js';

/**
 * Real VictoriaMetrics, Prometheus and InfluxDB 1.x servers (the Debian packages) for
 * tests and benchmarks: each on free loopback ports with its own temporary
 * data folder, never on a default port. `stop()` and `start()` again keep the
 * data (an outage); `close()` stops and removes everything.
 */

export abstract class ServerProcess {
  readonly dir: string;
  readonly #name: string;
  #child: ChildProcess | undefined;

  constructor(name: string) {
    this.#name = name;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `pythond-${name}-`));
  }

  abstract readonly url: string;
  protected abstract command(): { file: string; args: string[] };
  /** A URL that answers 2xx once the server takes writes. */
  protected abstract readyUrl(): string;
  /** The CA of the server's certificate, for an https server. */
  protected ca: Buffer | undefined;

  /** The server's process id while it runs (the benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get #logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  async start(): Promise<void> {
    const { file, args } = this.command();
    const log = openSync(this.#logFile, 'a');
    const child = spawn(file, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.#child = child;
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before answering`);
          return get(this.readyUrl(), this.ca).then(
            (answer) => answer.status < 300,
            () => false,
          );
        },
        `${file} to answer ${this.readyUrl()}`,
        30_000,
        100,
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}; its log:\n${this.log()}`);
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s); its data stays for the next start. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child) await terminate(child, this.#name, { log: () => this.log() });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(this.#logFile, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** GET with node's own client, which (unlike fetch) takes a CA. */
export function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  const request = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 5 s`)));
  });
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics extends ServerProcess {
  readonly url: string;
  readonly #port: number;
  readonly #tls: { cert: string; key: string } | undefined;

  private constructor(port: number, tls?: { ca: string; cert: string; key: string }) {
    super('victoria-metrics');
    this.#port = port;
    this.#tls = tls;
    this.ca = tls ? readFileSync(tls.ca) : undefined;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Starts one; with `tls`, it serves only HTTPS, with that certificate. */
  static async start(options: { tls?: { ca: string; cert: string; key: string } } = {}): Promise<VictoriaMetrics> {
    const server = new VictoriaMetrics(await freePort(), options.tls);
    await server.start();
    return server;
  }

  protected command() {
    const args = [`-httpListenAddr=127.0.0.1:${this.#port}`, `-storageDataPath=${path.join(this.dir, 'data')}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'];
    if (this.#tls) args.push('-tls', `-tlsCertFile=${this.#tls.cert}`, `-tlsKeyFile=${this.#tls.key}`);
    return { file: 'victoria-metrics', args };
  }

  protected readyUrl(): string {
    return `${this.url}/health`;
  }

  /** Every sample of the series matching `selector`, after making recent writes searchable. */
  async export(selector: string): Promise<ExportedSeries[]> {
    await get(`${this.url}/internal/force_flush`, this.ca);
    const { status, body } = await get(`${this.url}/api/v1/export?${new URLSearchParams({ 'match[]': selector })}`, this.ca);
    if (status !== 200) throw new Error(`export answered ${status}: ${body}`);
    return body
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as ExportedSeries);
  }
}

/** A series as Prometheus' range query gives it: its labels (with __name__), its samples as [ms, value]. */
export interface PrometheusSeries {
  metric: Record<string, string>;
  samples: [number, number][];
}

/** What a Prometheus scrapes: a job's one target. */
export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  path: string;
}

export class Prometheus extends ServerProcess {
  readonly url: string;
  readonly #port: number;
  readonly #scrape: ScrapeTarget[];

  private constructor(port: number, scrape: ScrapeTarget[]) {
    super('prometheus');
    this.#port = port;
    this.#scrape = scrape;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts one with its remote write receiver on (at `<url>/api/v1/write`), scraping `scrape` every second. */
  static async start(options: { scrape?: ScrapeTarget[] } = {}): Promise<Prometheus> {
    const server = new Prometheus(await freePort(), options.scrape ?? []);
    await server.start();
    return server;
  }

  get writeUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  protected command() {
    const jobs = this.#scrape
      .map(
        ({ job, target, path: metricsPath }) => `  - job_name: ${job}
    metrics_path: ${metricsPath}
    static_configs:
      - targets: ['${target}']
`,
      )
      .join('');
    const config = path.join(this.dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
${
  jobs
    ? `scrape_configs:
${jobs}`
    : ''
}`,
    );
    const args = [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.#port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ];
    return { file: 'prometheus', args };
  }

  protected readyUrl(): string {
    return `${this.url}/-/ready`;
  }

  /** Every series matching `selector` with its samples of the last `range` (a PromQL duration). */
  async series(selector: string, range = '1h'): Promise<PrometheusSeries[]> {
    const { status, body } = await get(`${this.url}/api/v1/query?${new URLSearchParams({ query: `${selector}[${range}]` })}`);
    if (status !== 200) throw new Error(`Prometheus answered ${status} to ${selector}: ${body}`);
    const result = (JSON.parse(body) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }).data.result;
    return result.map(({ metric, values }) => ({ metric, samples: values.map(([seconds, value]) => [Math.round(seconds * 1000), Number(value)]) }));
  }
}

export interface InfluxSeries {
  name: string;
  columns: string[];
  values: unknown[][];
}

export class InfluxDB extends ServerProcess {
  readonly url: string;
  readonly #ports: { http: number; rpc: number };
  readonly #auth: { username: string; password: string } | undefined;

  private constructor(ports: { http: number; rpc: number }, auth?: { username: string; password: string }) {
    super('influxdb');
    this.#ports = ports;
    this.#auth = auth;
    this.url = `http://127.0.0.1:${ports.http}`;
  }

  /** Starts one; with `auth`, authentication is on and that user is its admin. */
  static async start(options: { auth?: { username: string; password: string } } = {}): Promise<InfluxDB> {
    const server = new InfluxDB({ http: await freePort(), rpc: await freePort() }, options.auth);
    await server.start();
    if (options.auth) {
      // Allowed without credentials while the server has no user yet.
      const { username, password } = options.auth;
      await server.query(`CREATE USER "${username}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`);
    }
    return server;
  }

  /** A config that moves every port and folder of influxd away from its defaults. */
  protected command() {
    const dir = this.dir;
    const config = `
reporting-disabled = true
bind-address = "127.0.0.1:${this.#ports.rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${this.#ports.http}"
  auth-enabled = ${this.#auth ? 'true' : 'false'}
  log-enabled = false
[continuous_queries]
  enabled = false
`;
    writeFileSync(path.join(dir, 'influxdb.conf'), config);
    return { file: 'influxd', args: ['-config', path.join(dir, 'influxdb.conf')] };
  }

  protected readyUrl(): string {
    return `${this.url}/ping`;
  }

  /** Runs InfluxQL; the series of the first statement's result. */
  async query(q: string, db?: string): Promise<InfluxSeries[]> {
    // InfluxDB 1.x reads u and p from the URL only, not from a form body.
    const credentials = this.#auth ? `?${new URLSearchParams({ u: this.#auth.username, p: this.#auth.password })}` : '';
    const response = await fetch(`${this.url}/query${credentials}`, { method: 'POST', body: new URLSearchParams({ q, ...(db ? { db } : {}) }) });
    const body = (await response.json()) as { results?: { series?: InfluxSeries[]; error?: string }[]; error?: string };
    const error = body.error ?? body.results?.[0]?.error;
    if (!response.ok || error) throw new Error(`InfluxDB answered ${response.status} to ${q}: ${error}`);
    return body.results?.[0]?.series ?? [];
  }

  /** `SELECT * FROM measurement` as one object per row, `time` in ns as text (JSON numbers cannot hold it). */
  async rows(db: string, measurement: string): Promise<Record<string, unknown>[]> {
    const [series] = await this.query(`SELECT * FROM "${measurement}"`, db);
    if (!series) return [];
    return series.values.map((row) => {
      const entry = Object.fromEntries(series.columns.map((column, i) => [column, row[i]]));
      return { ...entry, time: rfc3339ToNs(entry.time as string) };
    });
  }
}

/** "2026-01-02T03:04:05.123456789Z" → nanoseconds since the epoch, as text. */
function rfc3339ToNs(text: string): string {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) throw new Error(`not an RFC 3339 time: ${text}`);
  const seconds = BigInt(Date.parse(`${match[1]}Z`) / 1000);
  return (seconds * 1_000_000_000n + BigInt((match[2] ?? '0').padEnd(9, '0'))).toString();
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=pythond test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('san.ext'),
  );
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}
