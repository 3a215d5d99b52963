import { readdirSync, readFileSync } from 'node:fs';
import Docker from 'dockerode';
import type { App } from '../src/app.js';
import { inputReports } from '../src/http/views.js';

/**
 * Where the machine's CPU goes while warm ticks run: the runner's main
 * thread, its other threads (workers, GC helpers, libuv's pool), the Docker
 * daemon and containerd (shared with whatever else the engine serves), the
 * containerd-shim of each of the app's containers, and the collector hosts
 * in them. Read from /proc, so it holds on a loaded machine too.
 */
export const STACK_PARTS = ['runner_main', 'runner_threads', 'dockerd', 'containerd', 'shims', 'hosts'] as const;
export type StackPart = (typeof STACK_PARTS)[number];

/** CPU seconds of a /proc stat file (a process's, or with `/task/<tid>` one thread's): utime + stime, plus the children waited for with `children`. */
export function statCpuS(file: string, children = false): number {
  try {
    const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks / 100; // USER_HZ
  } catch {
    return 0; // the process ended meanwhile
  }
}

const parentPid = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

function pidsNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    });
}

/** The processes to read: the app's containers' hosts and shims, found once (a warm host lives through the measurement). */
export async function stackProcesses(app: App): Promise<{ hosts: number[]; shims: number[]; dockerd: number[]; containerd: number[] }> {
  const docker = new Docker();
  const ids = [...new Set(inputReports(app).flatMap((input) => input.collectors.map((c) => c.host)))].filter((id): id is string => !!id);
  const hosts = (await Promise.all(ids.map(async (id) => (await docker.getContainer(id).inspect()).State.Pid))).filter((pid) => pid > 0);
  return { hosts, shims: [...new Set(hosts.map(parentPid))], dockerd: pidsNamed('dockerd'), containerd: pidsNamed('containerd') };
}

/** CPU seconds each part has used so far. */
export function stackCpuS(processes: Awaited<ReturnType<typeof stackProcesses>>): Record<StackPart, number> {
  const sum = (pids: number[], children = false) => pids.reduce((total, pid) => total + statCpuS(`/proc/${pid}/stat`, children), 0);
  const runner = statCpuS('/proc/self/stat');
  const main = statCpuS(`/proc/self/task/${process.pid}/stat`);
  return {
    runner_main: main,
    runner_threads: runner - main,
    dockerd: sum(processes.dockerd),
    containerd: sum(processes.containerd),
    shims: sum(processes.shims),
    hosts: sum(processes.hosts, true),
  };
}
