import type { Config, InputConfig } from '../config/load.js';
import { PythondError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { DockerEngine } from './docker/docker-engine.js';
import { DockerLauncher } from './docker/docker-launcher.js';
import { instanceId } from './docker/labels.js';
import type { HostLauncher } from './executor.js';
import { ProcessLauncher } from './process/process-launcher.js';

export type ExecutorKind = 'docker' | 'process';

export interface ExecutorChoice {
  kind: ExecutorKind;
  launcherFor(input: InputConfig): HostLauncher;
}

/**
 * Resolves `[runner].executor`. `docker` needs an engine and the images, and
 * fails clearly without them; `auto` falls back to `process` with a loud
 * warning. For docker it also removes containers a crashed run left behind.
 */
export async function selectExecutor(config: Config, log: Logger, metrics: Metrics): Promise<ExecutorChoice> {
  const { executor, image, data_dir: dataDir, python_d: pythonD } = config.runner;
  const processChoice: ExecutorChoice = {
    kind: 'process',
    launcherFor: (input) =>
      new ProcessLauncher({ cmd: input.cmd, pythonD, dirs: input.discovered.map((dir) => dir.path), envs: input.envs, configKey: input.key }),
  };
  if (executor === 'process') return processChoice;

  const engine = new DockerEngine(log);
  const problem = await dockerProblem(engine, [...new Set(config.inputs.map((input) => input.image ?? image))]);
  if (problem) {
    if (executor === 'docker') throw problem;
    log.warn(
      `executor = "auto": ${problem.message}. Falling back to the process executor: collectors run as plain python3 processes on this machine, WITHOUT isolation or resource limits`,
    );
    return processChoice;
  }

  const instance = instanceId(dataDir);
  await engine.removeLeftovers(instance);
  metrics.containers.set({ state: 'running' }, 0);
  const counts = {
    started: () => metrics.containers.inc({ state: 'running' }),
    stopped: () => metrics.containers.dec({ state: 'running' }),
  };
  return {
    kind: 'docker',
    launcherFor: (input) =>
      new DockerLauncher({ docker: engine.docker, input, image: input.image ?? image, instance, log: log.child({ input: input.name }), counts }),
  };
}

async function dockerProblem(engine: DockerEngine, images: string[]): Promise<Error | undefined> {
  const unavailable = await engine.problem();
  if (unavailable) return new PythondError('DOCKER_UNAVAILABLE', unavailable);
  try {
    for (const image of images) await engine.requireImage(image);
  } catch (err) {
    return err as Error;
  }
  return undefined;
}
