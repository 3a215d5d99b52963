import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterStatus } from '../../src/cluster/cluster-member.js';
import { startRunner } from './cli.js';
import { dedent, freePort, tempTree, waitFor } from './fixtures.js';

/**
 * A collector that records every run: its input, the member it ran on (as
 * pythond tells it, PYTHOND_MEMBER) and when it started and ended, in a
 * point, and with the process executor also as a line in a file shared by
 * every member, written by the collector itself (so a run counts even if
 * its runner is killed before the point is written).
 */
const TICK_COLLECTOR = `
  import os
  import time

  from datakit_framework import DataKitFramework


  class Tick(DataKitFramework):
      name = 'tick'
      interval = 1

      def run(self):
          start = time.time()
          time.sleep(0.05)
          end = time.time()
          member = os.environ.get('PYTHOND_MEMBER', '')
          log = os.environ.get('TICK_LOG')
          if log:
              with open(log, 'a') as f:
                  f.write('%s %s %.4f %.4f\\n' % (os.environ['TICK_INPUT'], member, start, end))
          self.feed_metric(measurement='tick', tags={'member': member}, fields={'start': start, 'end': end})
`;

/**
 * The interpreter python3 on PATH runs: hosts started by path, not through
 * a version manager's shell shims, which cost more than the host itself to
 * start, and dozens start at once here.
 */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

/** One run of a collector, as it recorded itself (seconds since the epoch). */
export interface Run {
  input: string;
  member: string;
  start: number;
  end: number;
}

export interface Member {
  name: string;
  url: string;
  child: ChildProcess;
  log(): string;
}

/**
 * Runner replicas sharing `shared` inputs (`in00`, `in01`, ...) at 1 s, plus
 * one input `local` with cluster = "each", through a real etcd: each
 * member is a `pythond run` process with a config of its own (same inputs,
 * its own listen address, data_dir and file output).
 */
export class ClusterFixture {
  readonly root: string;
  readonly inputs: string[];
  readonly #etcd: () => string;
  readonly #leaseTtl: number;
  readonly #executor: 'process' | 'docker';
  readonly members = new Map<string, Member>();

  /** Made where the test's temporary folders live (a test or a describe body, not a hook); `etcd` is read at each start. */
  constructor(options: { etcd: () => string; shared: number; leaseTtlSeconds: number; executor: 'process' | 'docker' }) {
    this.root = tempTree({ 'python.d/tick/tick.py': TICK_COLLECTOR });
    this.inputs = Array.from({ length: options.shared }, (_, i) => `in${String(i).padStart(2, '0')}`);
    this.#etcd = options.etcd;
    this.#leaseTtl = options.leaseTtlSeconds;
    this.#executor = options.executor;
  }

  get #tickLog(): string {
    return path.join(this.root, 'ticks.log');
  }

  /** Starts (or starts again, with the same data) member `name`; resolves once its API answers. */
  async start(name: string): Promise<Member> {
    const port = await freePort();
    const file = path.join(this.root, `${name}.toml`);
    writeFileSync(file, this.#config(name, port));
    const { child, log } = startRunner(['--config', file]);
    const member: Member = { name, url: `http://127.0.0.1:${port}`, child, log };
    this.members.set(name, member);
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`member ${name} exited with ${child.exitCode}: ${log()}`);
      return (await fetch(`${member.url}/v1/ping`).catch(() => undefined))?.ok;
    }, `member ${name} to answer`);
    return member;
  }

  /** Stops a member with SIGTERM and waits for it to exit. */
  async stop(name: string): Promise<void> {
    const member = this.members.get(name);
    if (!member || member.child.exitCode !== null || member.child.signalCode !== null) return;
    const exited = new Promise((resolve) => member.child.once('exit', resolve));
    member.child.kill('SIGTERM');
    await exited;
  }

  async status(name: string): Promise<ClusterStatus> {
    return (await fetch(`${this.members.get(name)!.url}/v1/cluster`)).json() as Promise<ClusterStatus>;
  }

  /** Every run so far: from the shared file with the process executor, from the members' points with docker. */
  runs(): Run[] {
    if (this.#executor === 'process') {
      if (!existsSync(this.#tickLog)) return [];
      return readFileSync(this.#tickLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [input, member, start, end] = line.split(' ');
          return { input: input!, member: member!, start: Number(start), end: Number(end) };
        });
    }
    const runs: Run[] = [];
    for (const name of this.members.keys()) {
      const file = path.join(this.root, `data-${name}`, 'points.jsonl');
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const point = JSON.parse(line) as { tags: Record<string, string>; fields: { start: number; end: number } };
        runs.push({ input: point.tags.input!, member: point.tags.member!, start: point.fields.start, end: point.fields.end });
      }
    }
    return runs;
  }

  /** Waits until every shared input has ticked on the member `owners` gives it, after `since` (epoch seconds). */
  async settled(owners: (input: string) => string, since: number, timeoutMs = 60_000): Promise<void> {
    const latest = new Map<string, Run>();
    try {
      await waitFor(
        () => {
          for (const run of this.runs())
            if (run.start > since && this.inputs.includes(run.input) && run.start >= (latest.get(run.input)?.start ?? 0)) latest.set(run.input, run);
          return this.inputs.every((input) => latest.get(input)?.member === owners(input));
        },
        'every shared input to tick on its owner',
        timeoutMs,
        200,
      );
    } catch (err) {
      const wrong = this.inputs.filter((input) => latest.get(input)?.member !== owners(input));
      const said = await Promise.all(
        [...this.members.values()].map(async (member) => {
          const shown = await fetch(`${member.url}/v1/collectors`)
            .then(async (answer) => ((await answer.json()) as { inputs: { input: string }[] }).inputs.filter((status) => wrong.includes(status.input)))
            .catch(() => []);
          const state = shown.map((status) => `  ${JSON.stringify(status)}`).join('\n');
          return `${member.name}${member.child.exitCode === null ? '' : ` (exited with ${member.child.exitCode})`}:\n${notices(member.log())}\n${state}`;
        }),
      );
      throw new Error(
        `${(err as Error).message}; not yet: ${wrong.map((input) => `${input} (${latest.get(input)?.member ?? 'no run'}, owner ${owners(input)})`).join(', ')}\n${said.join('\n')}`,
      );
    }
  }

  #config(name: string, port: number): string {
    const data = path.join(this.root, `data-${name}`);
    const shared = this.inputs.map(
      (input) => `
        [[inputs.pythond]]
        name = "${input}"
        dirs = ["tick"]
        ${this.#executor === 'process' ? `cmd = "${PYTHON}"` : ''}
        network = "none"
        tags = { input = "${input}" }
        envs = ${JSON.stringify(this.#executor === 'process' ? [`TICK_LOG=${this.#tickLog}`, `TICK_INPUT=${input}`] : [])}
      `,
    );
    return dedent(`
      [runner]
      executor = "${this.#executor}"
      listen = "127.0.0.1:${port}"
      data_dir = "${data}"
      python_d = "${path.join(this.root, 'python.d')}"

      [cluster]
      etcd = ["${this.#etcd()}"]
      member = "${name}"
      lease_ttl = "${this.#leaseTtl}s"
      ${shared.join('')}
      [[inputs.pythond]]
      name = "local"
      dirs = ["tick"]
      ${this.#executor === 'process' ? `cmd = "${PYTHON}"` : ''}
      network = "none"
      cluster = "each"
      tags = { input = "local" }
      envs = ${JSON.stringify(this.#executor === 'process' ? [`TICK_LOG=${this.#tickLog}`, 'TICK_INPUT=local'] : [])}

      [[outputs.file]]
      path = "${path.join(data, 'points.jsonl')}"
    `);
  }
}

/** Runs of the same input that overlap in time on two members: what cluster mode must never let happen. */
export function overlaps(runs: readonly Run[]): string[] {
  const found: string[] = [];
  const byInput = new Map<string, Run[]>();
  for (const run of runs) byInput.set(run.input, [...(byInput.get(run.input) ?? []), run]);
  for (const [input, list] of byInput) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const [previous, run] = [list[i - 1]!, list[i]!];
      if (run.member !== previous.member && run.start < previous.end)
        found.push(`${input}: ${previous.member} ran ${previous.start}-${previous.end}, ${run.member} started at ${run.start}`);
    }
  }
  return found;
}

/** The warnings, errors and cluster events of a member's JSON log, one message a line. */
function notices(log: string): string {
  return log
    .split('\n')
    .filter((line) => line.trim() && (!line.includes('"level":30') || line.includes('"msg":"cluster: ')))
    .map((line) => {
      if (!line.startsWith('{')) return `  ${line}`; // a crash's stack, say
      const { time, msg } = JSON.parse(line) as { time: string; msg: string };
      return `  ${time} ${msg}`;
    })
    .join('\n');
}
