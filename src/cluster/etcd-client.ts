import { readFileSync } from 'node:fs';
import { ExponentialBackoff, noop, type IBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import type { ClusterConfig } from '../config/load.js';

/**
 * An etcd client for `[cluster]`: its endpoints, TLS and user. Every call
 * fails on its own deadline, without the client's retries and circuit
 * breakers, which would hide for how long etcd has been away (fencing must
 * know) and keep refusing calls for seconds after it is back; reconnections
 * are tried at least every `reconnectMs`.
 */
export function connectEtcd(config: ClusterConfig, options: { requestTimeoutMs: number; reconnectMs: number }): Etcd3 {
  const etcd: IOptions = {
    hosts: config.etcd,
    faultHandling: {
      host: () => noop,
      global: noop,
      // The client's type says IBackoff; it calls next() on it like on the factory it builds by default.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: options.reconnectMs }) as unknown as IBackoff<unknown>,
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.requestTimeoutMs }),
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': options.reconnectMs,
      // A connection that went silent (a route dropped, no reset) is found by pings; etcd refuses them more often than every 5 s.
      'grpc.keepalive_time_ms': 5_000,
      'grpc.keepalive_timeout_ms': 2_000,
    },
  };
  if (config.tls_ca !== undefined || config.tls_cert !== undefined) {
    etcd.credentials = {
      // Without tls_ca, gRPC takes the system's CAs (it reads a null root so).
      rootCertificate: config.tls_ca === undefined ? (null as unknown as Buffer) : readFileSync(config.tls_ca),
      ...(config.tls_key === undefined ? {} : { privateKey: readFileSync(config.tls_key) }),
      ...(config.tls_cert === undefined ? {} : { certChain: readFileSync(config.tls_cert) }),
    };
  }
  if (config.username !== undefined && config.password !== undefined) etcd.auth = { username: config.username, password: config.password.reveal() };
  return new Etcd3(etcd);
}
