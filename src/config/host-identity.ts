import os from 'node:os';
import { FieldError, type Field } from '../schema/fields.js';

/** The environment variable that names this machine when `[runner] hostname` does not (a container's runner, say). */
export const HOSTNAME_ENV = 'PYTHOND_HOSTNAME';

/** Where the host name in effect came from. */
export type HostnameSource = 'runner.hostname' | typeof HOSTNAME_ENV | 'os';

/** This machine as DataKit names it: what `__datakit_hostname` and `__datakit_ip` stand for. */
export interface HostIdentity {
  /** The name collectors see (their container's Hostname) and the `host` global tag carries by default. */
  name: string;
  from: HostnameSource;
  /** The first address of this machine that is not a loopback one; 127.0.0.1 when it has none. */
  ip: string;
}

/** What sethostname() takes (64 bytes) in the characters host names are made of. */
const HOST_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const checked = (name: unknown): string => {
  if (typeof name !== 'string' || !HOST_NAME.test(name.trim()))
    throw new FieldError(`must be a host name of 1 to 64 letters, digits, ".", "-" or "_" (a container's Hostname), got ${JSON.stringify(name)}`);
  return name.trim();
};

/** `[runner] hostname`. */
export const hostName = (): Field<string> => ({ read: checked });

/**
 * `[runner] hostname`, else PYTHOND_HOSTNAME, else the OS's host name, as
 * DataKit takes ENV_HOSTNAME before the OS's. Throws a FieldError naming the
 * variable when PYTHOND_HOSTNAME is not a host name.
 */
export function resolveHostIdentity(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): HostIdentity {
  const ip = firstAddress();
  if (configured !== undefined) return { name: configured, from: 'runner.hostname', ip };
  const fromEnv = env[HOSTNAME_ENV]?.trim();
  if (fromEnv) {
    try {
      return { name: checked(fromEnv), from: HOSTNAME_ENV, ip };
    } catch (err) {
      throw new FieldError(`is not set, and the environment variable ${HOSTNAME_ENV} ${(err as Error).message}`);
    }
  }
  return { name: os.hostname(), from: 'os', ip };
}

/** DataKit's "first master network card IP": the first IPv4 address that is not a loopback one, else the first such IPv6 address. */
function firstAddress(): string {
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  const outside = addresses.filter((address) => !address.internal);
  return (outside.find((address) => address.family === 'IPv4') ?? outside[0])?.address ?? '127.0.0.1';
}
