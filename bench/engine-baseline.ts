import Docker from 'dockerode';

/** On the bench's own bare containers, so they are found and removed whatever happens. */
const LABEL = 'io.pythond.bench.bare';

/**
 * What the engine alone takes to start `count` containers like `model` (a
 * running collector host's container: the same image, user, network and
 * limits, its HostConfig copied as it is), `parallel` at a time as pythond
 * starts hosts (`[runner] host_starts`), each running `sleep` instead of
 * the collector host: create and start, no attach, no code bundle, no
 * Python. Seconds of wall time; the containers are removed after.
 */
export async function engineStartsS(model: string, count: number, parallel: number): Promise<number> {
  const docker = new Docker();
  const info = await docker.getContainer(model).inspect();
  const run = `${process.pid}-${Date.now()}`;
  const spec = (i: number): Docker.ContainerCreateOptions => ({
    name: `pythond-bench-bare-${run}-${i}`,
    Image: info.Config.Image,
    Cmd: ['sleep', '3600'],
    User: info.Config.User,
    Env: info.Config.Env,
    WorkingDir: info.Config.WorkingDir,
    ...(info.Config.Hostname && !info.HostConfig.NetworkMode?.startsWith('container:') ? { Hostname: info.Config.Hostname } : {}),
    Labels: { [LABEL]: run },
    HostConfig: { ...info.HostConfig, AutoRemove: false },
  });
  const ids: string[] = [];
  let next = 0;
  const began = performance.now();
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = next++; i < count; i = next++) {
          const container = await docker.createContainer(spec(i));
          ids.push(container.id);
          await container.start();
        }
      }),
    );
    return (performance.now() - began) / 1000;
  } finally {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  }
}
