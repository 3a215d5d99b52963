import type { InputConfig } from '../config/load.js';
import type { HostLauncher } from '../executors/executor.js';
import { FreshExecutor } from '../executors/fresh-executor.js';
import { WarmExecutor } from '../executors/warm-executor.js';
import type { Logger } from '../logger.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { LastErrorMessage } from '../protocol/messages.js';
import { LastErrors } from './last-errors.js';
import { RunningInput } from './running-input.js';

/** One input's runtime: its executor (warm or fresh, per `mode`) around `launcher`. */
export function createRunningInput(options: {
  input: InputConfig;
  launcher: HostLauncher;
  pipeline: PointPipeline;
  outputs: OutputSet;
  metrics: Metrics;
  log: Logger;
  /** Where set_lasterror() calls are kept for the status API. */
  lastErrors?: LastErrors;
}): RunningInput {
  const { input, launcher } = options;
  const log = options.log.child({ input: input.name });
  let runner: RunningInput | undefined;
  const hostOptions = {
    maxLine: input.max_report_size,
    maxStray: input.max_stderr,
    log,
    onHostLost: (reason: string) => runner?.hostLost(reason),
    onLastError: (message: LastErrorMessage) => runner?.lastError(message),
  };
  const executor = input.mode === 'fresh' ? new FreshExecutor(launcher, hostOptions) : new WarmExecutor(launcher, hostOptions);
  runner = new RunningInput({
    config: input,
    executor,
    pipeline: options.pipeline,
    outputs: options.outputs,
    metrics: options.metrics,
    log,
    lastErrors: options.lastErrors ?? new LastErrors(),
  });
  return runner;
}
