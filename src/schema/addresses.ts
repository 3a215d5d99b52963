import os from 'node:os';
import { FieldError, string, type Field } from './fields.js';

/** A `host:port` to listen on: `127.0.0.1:9529`, `[::1]:9529`, `0.0.0.0:9273`. */
export const listenAddress = (example = '127.0.0.1:9529'): Field<string> => ({
  read(value: unknown): string {
    const text = string(`an address such as "${example}"`).read(value);
    if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(text) || Number(text.slice(text.lastIndexOf(':') + 1)) > 65535) {
      throw new FieldError(`must be an address such as "${example}" (host:port), got ${JSON.stringify(text)}`);
    }
    return text;
  },
});

/** `127.0.0.1:9529`, `[::1]:9529`, `localhost:9529` (the shape the config checked) → host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(colon + 1)) };
}

const ANY = new Set(['0.0.0.0', '::', '']);
const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** This machine's names for itself: its host name and every address of its interfaces. */
function ownAddresses(): Set<string> {
  const addresses = Object.values(os.networkInterfaces()).flatMap((infos) => (infos ?? []).map((info) => info.address));
  return new Set([os.hostname(), ...addresses]);
}

/**
 * Whether a request to `url` from this machine reaches a server of this
 * machine listening on `listen`: the same port, and the same host however
 * it is spelt (`localhost`, `127.0.0.1`, `[::1]`; any of this machine's
 * names and addresses when it listens on all of them).
 */
export function reachesListen(url: URL, listen: string): boolean {
  const { host, port } = parseListen(listen);
  const urlPort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (urlPort !== port) return false;
  const urlHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (urlHost === host) return true;
  if (isLoopback(host)) return isLoopback(urlHost);
  return ANY.has(host) && (isLoopback(urlHost) || ownAddresses().has(urlHost));
}
