import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the stub answered, or undefined when it left the request hanging. */
  status?: number;
}

/** What the stub does with one request: answer with a status (and body), never answer, or drop the connection. */
export type StubAnswer = { status: number; body?: string } | 'hang' | 'reset';

/**
 * A programmable HTTP server on a free loopback port, standing in for a
 * destination (a DataKit, a misbehaving InfluxDB) or in front of a real one
 * (`forwardTo`): it records every request and answers as `answer` says (204
 * by default), so a test sees the raw stream a destination was sent and
 * what it accepted, duplicates included.
 */
export class StubServer {
  readonly requests: RecordedRequest[] = [];
  answer: (request: RecordedRequest) => StubAnswer | Promise<StubAnswer> = () => ({ status: 204 });
  readonly #server: http.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor() {
    this.#server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://stub');
      const request: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.requests.push(request);
      const answer = await this.answer(request);
      if (answer === 'hang') return;
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      request.status = answer.status;
      res.writeHead(answer.status).end(answer.body ?? '');
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<StubServer> {
    const stub = new StubServer();
    stub.#server.listen(0, '127.0.0.1');
    await once(stub.#server, 'listening');
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  /** Bodies of the requests it accepted (2xx), in order. */
  accepted(): RecordedRequest[] {
    return this.requests.filter((request) => request.status !== undefined && request.status < 300);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/**
 * An answer that passes each request on to the server at `target` and
 * answers as it did; while the target cannot be reached, the connection is
 * dropped, as with the target itself.
 */
export function forwardTo(target: string): (request: RecordedRequest) => Promise<StubAnswer> {
  return async (request) => {
    const url = new URL(`${request.path}?${request.query}`, target);
    const headers = Object.fromEntries(
      ['content-type', 'authorization'].flatMap((name) => (request.headers[name] ? [[name, String(request.headers[name])]] : [])),
    );
    try {
      const response = await fetch(url, { method: request.method, headers, body: request.body });
      return { status: response.status, body: await response.text() };
    } catch {
      return 'reset';
    }
  };
}
