import Docker from 'dockerode';
import type { TestContext } from 'node:test';
import { exec } from './exec.js';
import { cannotRun } from './required.js';

const docker = new Docker();
let answer: Promise<boolean> | undefined;

/** True when a Docker engine answers and the collector image is there. */
export function dockerReady(image = 'pythond-python:3'): Promise<boolean> {
  answer ??= docker
    .ping()
    .then(() => docker.getImage(image).inspect())
    .then(
      () => true,
      () => false,
    );
  return answer;
}

/**
 * For tests that need the real engine: skips with a clear message when none
 * answers, except where every test must run (CI), where a missing engine or
 * image fails the test instead.
 */
export async function requireDocker(t: TestContext): Promise<boolean> {
  if (await dockerReady()) return true;
  cannotRun(t, 'needs a Docker engine and the pythond-python:3 image (start dockerd, then `npm run images`)');
  return false;
}

export { docker };

/**
 * Builds pythond-runner:latest from these sources with docker/build-images.sh
 * (docker's layer cache: seconds when the image is up to date), for tests of
 * the runner image and compose.yaml.
 */
export async function buildRunnerImage(): Promise<void> {
  await exec('sh', ['docker/build-images.sh', 'runner'], { timeoutMs: 8 * 60_000 });
}
