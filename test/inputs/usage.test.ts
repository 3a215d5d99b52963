import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { startInput, type InputHarness } from '../helpers/input-harness.js';

const MIB = 1024 ** 2;
const BURN_S = 0.5;
const ALLOCATE_MIB = 64;

/** One collector burns a known CPU time (measured by its process's clock), the other writes a known block of memory. */
const COSTLY = `
  import time

  from datakit_framework import DataKitFramework


  class Burn(DataKitFramework):
      interval = 60

      def run(self):
          end = time.process_time() + ${BURN_S}
          while time.process_time() < end:
              pass
          self.feed_metric(measurement='burnt', fields={'s': ${BURN_S}})


  class Allocate(DataKitFramework):
      interval = 60

      def run(self):
          block = b'x' * (${ALLOCATE_MIB} << 20)
          del block
`;

/**
 * What each mode's figures may add to the known amounts. Warm: the run's
 * own thread (a loop checking its clock overshoots by microseconds) and the
 * host's resident peak, which holds the interpreter and the SDK (about
 * 16 MiB here). Fresh: the host's whole life, so its interpreter's start,
 * the code bundle unpacked and the imports (0.1 to 0.3 s of CPU here) and,
 * with docker, the container's cgroup, which also counts the page cache.
 */
const TOLERANCE = {
  warm: { cpuS: 0.05, memoryMiB: 32 },
  fresh: { cpuS: 0.5, memoryMiB: 48 },
} as const;

/**
 * The interpreter itself, for the process executor: a version manager's
 * `python3` (a pyenv shim) runs a shell and its own program first, in the
 * same process, and a fresh host's figures would count them.
 */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

async function costlyInput(executor: 'process' | 'docker', mode: 'warm' | 'fresh'): Promise<InputHarness> {
  const cmd = executor === 'process' ? `cmd = ${JSON.stringify(PYTHON)}\n` : '';
  return startInput({ executor, files: { 'costly.py': COSTLY }, inputToml: `${cmd}mode = "${mode}"\nmemory = "256m"\ncpus = 1` });
}

async function checkFigures(t: TestContext, executor: 'process' | 'docker', mode: 'warm' | 'fresh'): Promise<void> {
  const harness = await costlyInput(executor, mode);
  const tolerance = TOLERANCE[mode];

  const burn = await harness.tick('costly.Burn');
  assert.equal(burn.status, 'ok', burn.error);
  const cpuS = burn.usage?.cpuSeconds;
  t.diagnostic(`${executor} ${mode}: burnt ${BURN_S} s of CPU, reported ${cpuS} s`);
  assert.ok(cpuS !== undefined && cpuS >= BURN_S && cpuS <= BURN_S + tolerance.cpuS, `CPU ${cpuS} s within [${BURN_S}, ${BURN_S + tolerance.cpuS}]`);

  const allocate = await harness.tick('costly.Allocate');
  assert.equal(allocate.status, 'ok', allocate.error);
  const peakMiB = (allocate.usage?.peakMemoryBytes ?? 0) / MIB;
  t.diagnostic(`${executor} ${mode}: wrote ${ALLOCATE_MIB} MiB, reported a peak of ${peakMiB.toFixed(1)} MiB`);
  assert.ok(
    peakMiB >= ALLOCATE_MIB && peakMiB <= ALLOCATE_MIB + tolerance.memoryMiB,
    `peak ${peakMiB.toFixed(1)} MiB within [${ALLOCATE_MIB}, ${ALLOCATE_MIB + tolerance.memoryMiB}]`,
  );

  // The last values in the status API, and one observation each in the histograms.
  const [burnState, allocateState] = ['costly.Burn', 'costly.Allocate'].map((id) => harness.input.status().collectors.find((c) => c.collector === id)!);
  assert.equal(burnState!.lastCpuMs, Math.round(cpuS * 1000 * 100) / 100);
  assert.equal(burnState!.lastPoints, 1);
  assert.ok(burnState!.lastReportBytes! > 0);
  assert.equal(burnState!.lastExit, 'ok');
  assert.equal(allocateState!.lastPeakMemoryBytes, allocate.usage?.peakMemoryBytes);
  assert.equal(burnState!.image, executor === 'docker' ? 'pythond-python:3' : undefined, 'the image its host ran in');
  const { tickCpu, tickPeakMemory, tickPoints, tickReportBytes } = harness.metrics;
  const count = async (histogram: typeof tickCpu, collector: string) =>
    (await histogram.get()).values.find((value) => value.metricName?.endsWith('_count') && value.labels.collector === collector)?.value;
  assert.equal(await count(tickCpu, 'costly.Burn'), 1);
  assert.equal(await count(tickPeakMemory, 'costly.Allocate'), 1);
  assert.equal(await count(tickPoints, 'costly.Burn'), 1);
  assert.equal(await count(tickReportBytes, 'costly.Burn'), 1);
}

describe('what a tick costs, in CPU and memory', () => {
  it('warm, process executor: the run thread CPU and the host peak while it ran', (t) => checkFigures(t, 'process', 'warm'));
  it('fresh, process executor: the host process whole life (rusage)', (t) => checkFigures(t, 'process', 'fresh'));

  it('warm, docker executor: the run thread CPU and the host peak while it ran', async (t) => {
    if (await requireDocker(t)) await checkFigures(t, 'docker', 'warm');
  });

  it("fresh, docker executor: the container's cgroup", async (t) => {
    if (await requireDocker(t)) await checkFigures(t, 'docker', 'fresh');
  });
});
