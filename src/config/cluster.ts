import {
  duration,
  FieldError,
  nonEmptyString,
  optional,
  readableFile,
  readTable,
  secret,
  stringList,
  withDefault,
  type Field,
  type Issue,
} from '../schema/fields.js';
import type { Secret } from '../schema/secret.js';

/**
 * `[cluster]`: replicas of this runner on several machines share the inputs
 * through etcd. Absent, the runner runs every input itself, as it always did.
 */
export interface ClusterConfig {
  /** etcd endpoints, `http://host:port` or `https://host:port`, without a path. */
  etcd: string[];
  /** Where this cluster's keys live in etcd; replicas with the same prefix share inputs. No trailing slash. */
  prefix: string;
  /** This replica's name among the members; default (set by the app): host name and instance id. */
  member?: string;
  /** Milliseconds, whole seconds (etcd leases count in seconds): how long after its last heartbeat a member counts as gone. */
  lease_ttl: number;
  tls_ca?: string;
  tls_cert?: string;
  tls_key?: string;
  username?: string;
  password?: Secret;
}

/** How an input is shared by the replicas: `one` runs on one of them, `each` on every one (host-local collectors). */
export const CLUSTER_MODES = ['one', 'each'] as const;

const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** etcd's own floor is 1.5 s (with its default election timeout); below 2 s a member would be declared gone between heartbeats. */
const MIN_LEASE_TTL_MS = 2_000;

const etcdEndpoints = (): Field<string[]> => ({
  read(value) {
    const expected = 'a list of etcd URLs such as ["http://127.0.0.1:2379"]';
    return stringList({ nonEmpty: true, expected })
      .read(value)
      .map((text, i) => {
        let url: URL;
        try {
          url = new URL(text.trim());
        } catch {
          throw new FieldError(`[${i}] must be an http:// or https:// URL such as "http://127.0.0.1:2379", got ${JSON.stringify(text)}`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:')
          throw new FieldError(`[${i}] must be an http:// or https:// URL such as "http://127.0.0.1:2379", got ${JSON.stringify(text)}`);
        if (url.username || url.password)
          throw new FieldError(`[${i}] must not carry a user name or password (URLs show up in logs); use [cluster] username and password`);
        if (url.pathname !== '/' || url.search || url.hash)
          throw new FieldError(`[${i}] must be an endpoint without a path, such as "http://127.0.0.1:2379", got ${JSON.stringify(text)}`);
        return `${url.protocol}//${url.host}`;
      });
  },
});

const keyPrefix = (): Field<string> => ({
  read(value) {
    const text = nonEmptyString('an etcd key prefix such as "/pythond/default"').read(value);
    if (!text.startsWith('/') || text === '/')
      throw new FieldError(`must be an etcd key prefix starting with "/", such as "/pythond/default", got ${JSON.stringify(text)}`);
    return text.replace(/\/+$/, '');
  },
});

const memberName = (): Field<string> => ({
  read(value) {
    const text = nonEmptyString('a member name such as "runner-1"').read(value);
    if (!MEMBER_NAME.test(text))
      throw new FieldError(`must be a member name of letters, digits and . _ : @ - (no "/"), such as "runner-1", got ${JSON.stringify(text)}`);
    return text;
  },
});

const leaseTtl = (): Field<number> => ({
  read(value) {
    const ms = duration(MIN_LEASE_TTL_MS).read(value);
    if (ms % 1000 !== 0) throw new FieldError(`must be whole seconds (etcd leases count in seconds), such as "10s", got ${JSON.stringify(value)}`);
    return ms;
  },
});

const clusterSchema = (baseDir: string) => ({
  etcd: withDefault(etcdEndpoints(), ['http://127.0.0.1:2379']),
  prefix: withDefault(keyPrefix(), '/pythond/default'),
  member: optional(memberName()),
  lease_ttl: withDefault(leaseTtl(), 10_000),
  /** The CA that signed etcd's server certificates (https:// endpoints); default: the system's CAs. */
  tls_ca: optional(readableFile(baseDir)),
  /** A client certificate and its key, for etcd's --client-cert-auth. */
  tls_cert: optional(readableFile(baseDir)),
  tls_key: optional(readableFile(baseDir)),
  /** etcd's own users (--auth): this runner's user and password. */
  username: optional(nonEmptyString('an etcd user name')),
  password: optional(secret({ nonEmpty: false, expected: 'a password' })),
});

/** Reads `[cluster]`; undefined when the table is absent. Checks the keys that only make sense together. */
export function readCluster(raw: unknown, baseDir: string, issues: Issue[]): ClusterConfig | undefined {
  if (raw === undefined) return undefined;
  const before = issues.length;
  const cluster = readTable(raw, clusterSchema(baseDir), 'cluster', issues);
  if (issues.length > before) return cluster as ClusterConfig;
  const secure = cluster.etcd.filter((url) => url.startsWith('https:')).length;
  if (secure > 0 && secure < cluster.etcd.length)
    issues.push({ path: 'cluster.etcd', message: 'mixes http:// and https:// endpoints; use https:// for all of them' });
  for (const key of ['tls_ca', 'tls_cert', 'tls_key'] as const) {
    if (cluster[key] !== undefined && secure === 0)
      issues.push({ path: `cluster.${key}`, message: 'is set, but the etcd endpoints are http://; write them as https:// to use TLS' });
  }
  if ((cluster.tls_cert === undefined) !== (cluster.tls_key === undefined)) {
    const missing = cluster.tls_cert === undefined ? 'tls_cert' : 'tls_key';
    issues.push({ path: `cluster.${missing}`, message: 'is required with tls_cert and tls_key: a client certificate goes with its key' });
  }
  if ((cluster.username === undefined) !== (cluster.password === undefined)) {
    const missing = cluster.username === undefined ? 'username' : 'password';
    issues.push({ path: `cluster.${missing}`, message: 'is required: etcd authentication needs both username and password' });
  }
  return cluster;
}
