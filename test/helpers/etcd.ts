import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './fixtures.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';

/** Why etcd cannot run here, or undefined when Debian's etcd-server and etcd-client are installed. */
export function etcdMissing(): string | undefined {
  return existsSync(ETCD) && existsSync(ETCDCTL) ? undefined : "needs Debian's etcd-server and etcd-client (apt-get install etcd-server etcd-client)";
}

/** TLS files for etcd's client port: a server certificate for 127.0.0.1 signed by `ca`. */
export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A real etcd (Debian's), one member on loopback ports with a data folder
 * of its own, started, stopped and started again by a test or a bench: it
 * keeps its data across a restart, as a real one does.
 */
export class TestEtcd {
  readonly url: string;
  readonly #dataDir: string;
  readonly #peerPort: number;
  /** Plain HTTP /metrics and /health beside the client port (which may be TLS), read the same way in every test. */
  readonly #metricsPort: number;
  readonly #tls: EtcdTls | undefined;
  #process: ChildProcess | undefined;
  #log = '';

  private constructor(root: string, ports: number[], tls: EtcdTls | undefined) {
    const [clientPort, peerPort, metricsPort] = ports as [number, number, number];
    this.#dataDir = path.join(root, 'etcd');
    this.#peerPort = peerPort;
    this.#metricsPort = metricsPort;
    this.#tls = tls;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  }

  /** Starts one in a new temporary folder (removed by close()). */
  static async start(options: { tls?: EtcdTls } = {}): Promise<TestEtcd> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-etcd-'));
    const etcd = new TestEtcd(root, [await freePort(), await freePort(), await freePort()], options.tls);
    await etcd.resume();
    return etcd;
  }

  /** Its log so far (stderr). */
  get log(): string {
    return this.#log;
  }

  /** Starts it again on the same ports and data (after stop()); resolves once it answers. */
  async resume(): Promise<void> {
    const peer = `http://127.0.0.1:${this.#peerPort}`;
    const args = [
      '--name=test',
      `--data-dir=${this.#dataDir}`,
      `--listen-client-urls=${this.url}`,
      `--advertise-client-urls=${this.url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      `--listen-metrics-urls=http://127.0.0.1:${this.#metricsPort}`,
      ...(this.#tls ? [`--trusted-ca-file=${this.#tls.ca}`, `--cert-file=${this.#tls.cert}`, `--key-file=${this.#tls.key}`, '--client-cert-auth'] : []),
    ];
    const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Never outlives the test process, whatever happened to its cleanup.
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#log += chunk.toString('utf8');
    });
    this.#process = child;
    const deadline = Date.now() + 20_000;
    while (!(await this.#healthy())) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${this.#log.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`etcd did not answer within 20 s: ${this.#log.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops it (SIGTERM) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(path.dirname(this.#dataDir), { recursive: true, force: true });
  }

  /** Runs etcdctl against it, as root when etcd has auth on (`user` is "name:password"). */
  etcdctl(args: string[], user?: string): string {
    const tls = this.#tls ? [`--cacert=${this.#tls.ca}`, `--cert=${this.#tls.cert}`, `--key=${this.#tls.key}`] : [];
    return execFileSync(ETCDCTL, [`--endpoints=${this.url}`, ...tls, ...(user ? [`--user=${user}`] : []), ...args], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
    });
  }

  /** gRPC messages etcd has received so far, every method and stream together: its request count. */
  async requestsReceived(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.#metricsPort}/metrics`)).text();
    let total = 0;
    for (const [, value] of text.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm)) total += Number(value);
    return total;
  }

  async #healthy(): Promise<boolean> {
    try {
      const answer = await fetch(`http://127.0.0.1:${this.#metricsPort}/health`, { signal: AbortSignal.timeout(1000) });
      return answer.ok && ((await answer.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }
}
