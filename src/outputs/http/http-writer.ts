import http from 'node:http';
import https from 'node:https';
import { PythondError } from '../../errors.js';
import { BatchRejected } from '../output.js';

export interface HttpWriterOptions {
  /** The server's base URL: every request goes to a URL under it (see `urlUnder`). */
  baseUrl: string;
  timeoutMs: number;
  /** PEM certificates that replace the system's trusted CAs, for a server with a private CA. */
  ca?: Buffer;
  /** Sent with every request (authorization, content type); the content type defaults to UTF-8 text. */
  headers?: Record<string, string>;
  /** The 4xx answers retried, instead of dropping the batch; default RETRIED_CLIENT_ERRORS. */
  retriedClientErrors?: ReadonlySet<number>;
}

/**
 * 4xx answers about the destination rather than the batch: wrong credentials,
 * a missing database, a timeout, rate limiting. Once fixed, the same batch
 * goes through, so it is retried; any other 4xx means the batch itself is bad.
 */
export const RETRIED_CLIENT_ERRORS: ReadonlySet<number> = new Set([401, 403, 404, 408, 429]);
/** 508 Loop Detected: the batch came back to where it started (a pythond's own API); sending it again loops again. */
const LOOP_DETECTED = 508;
/** Enough of an error answer to explain it in a log line. */
const MAX_ERROR_BODY = 2048;

/** `relative` under the base URL `base`, keeping any path prefix of the base (a server behind a proxy). */
export function urlUnder(base: string, relative: string): URL {
  return new URL(relative, base.endsWith('/') ? base : `${base}/`);
}

/**
 * POSTs bodies over keep-alive connections and turns every outcome into
 * resolve (2xx), BatchRejected (the batch is bad) or a retryable
 * OUTPUT_FAILED error that says what the server answered.
 */
export class HttpWriter {
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #retried: ReadonlySet<number>;

  constructor(options: HttpWriterOptions) {
    const secure = new URL(options.baseUrl).protocol === 'https:';
    this.#agent = secure ? new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }) : new http.Agent({ keepAlive: true });
    this.#request = secure ? https.request : http.request;
    this.#timeoutMs = options.timeoutMs;
    this.#headers = { 'content-type': 'text/plain; charset=utf-8', ...options.headers };
    this.#retried = options.retriedClientErrors ?? RETRIED_CLIENT_ERRORS;
  }

  post(url: URL, body: Uint8Array, signal?: AbortSignal): Promise<void> {
    // One controller per request, not AbortSignal.any(): combined with the
    // output's long-lived stop signal, that leaks a signal per request on Node 20.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const stop = (): void => controller.abort();
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });

    return new Promise<void>((resolve, reject) => {
      const options = {
        method: 'POST',
        agent: this.#agent,
        headers: { ...this.#headers, 'content-length': String(body.byteLength) },
        signal: controller.signal,
      };
      const req = this.#request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < MAX_ERROR_BODY) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on('error', (err) => reject(this.#unreachable(url, err, timedOut)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const text = Buffer.concat(chunks).toString('utf8', 0, MAX_ERROR_BODY).trim();
          const message = `${url.href} answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${text ? `: ${text}` : ''}`;
          const batchIsBad = (status >= 400 && status < 500 && !this.#retried.has(status)) || status === LOOP_DETECTED;
          reject(batchIsBad ? new BatchRejected(message) : new PythondError('OUTPUT_FAILED', message));
        });
      });
      req.on('error', (err) => reject(this.#unreachable(url, err, timedOut)));
      req.end(body);
    }).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    });
  }

  /** Closes idle connections; nothing is in flight once the output's sender stopped. */
  close(): void {
    this.#agent.destroy();
  }

  #unreachable(url: URL, err: Error, timedOut: boolean): PythondError {
    if (timedOut) return new PythondError('OUTPUT_FAILED', `${url.href} did not answer within ${this.#timeoutMs / 1000} s (timeout)`, { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    return new PythondError('OUTPUT_FAILED', `cannot reach ${url.href}: ${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`, {
      cause: err,
    });
  }
}
