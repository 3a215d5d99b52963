import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { exitOf } from './child-exit.js';
import { within } from './fixtures.js';

/** How long chromium may take to answer a command or fire an event, on a loaded machine. */
const ANSWER_MS = 30_000;

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Skips without chromium, except in CI (CI=true), where a missing browser fails the test. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but this test ${why}`);
  t.skip(why);
  return false;
}

interface Reply {
  id?: number;
  method?: string;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
  params?: Record<string, unknown>;
}

/**
 * A headless chromium driven over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: JSON messages ended by NUL on fds 3 and 4):
 * no WebSocket client, no browser downloaded by an npm package.
 */
export class Chromium {
  readonly #child: ChildProcess;
  readonly #profile: string;
  readonly #commands: Writable;
  readonly #pending = new Map<number, { resolve(result: Record<string, unknown>): void; reject(err: Error): void }>();
  readonly #listeners = new Set<(reply: Reply) => void>();
  #ids = 0;
  #stderr = '';

  private constructor() {
    this.#profile = mkdtempSync(path.join(os.tmpdir(), 'pythond-chromium-'));
    this.#child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${this.#profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      // A process group of its own: close() kills its zygote and renderers with it.
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true },
    );
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-4000)));
    this.#commands = this.#child.stdio[3] as Writable;
    let buffered = '';
    (this.#child.stdio[4] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\0'); end !== -1; end = buffered.indexOf('\0')) {
        this.#dispatch(JSON.parse(buffered.slice(0, end)) as Reply);
        buffered = buffered.slice(end + 1);
      }
    });
    this.#child.once('exit', (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`chromium exited (${code}); its stderr: ${this.#stderr}`));
      this.#pending.clear();
    });
  }

  static async launch(): Promise<Chromium> {
    const browser = new Chromium();
    await browser.send('Target.getTargets');
    return browser;
  }

  /** Sends one command (to a page's session when given); resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.#ids;
    const answered = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#commands.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
    return within(answered, ANSWER_MS, `chromium to answer ${method}`);
  }

  /** Resolves with the params of the first `method` event of `sessionId`. */
  event(method: string, sessionId: string): Promise<Record<string, unknown>> {
    const fired = new Promise<Record<string, unknown>>((resolve) => {
      const listener = (reply: Reply): void => {
        if (reply.method !== method || reply.sessionId !== sessionId) return;
        this.#listeners.delete(listener);
        resolve(reply.params ?? {});
      };
      this.#listeners.add(listener);
    });
    return within(fired, ANSWER_MS, `chromium's ${method}`);
  }

  /** A new tab of `width` × `height` CSS pixels showing `url`, once it has loaded. */
  async open(url: string, viewport: { width: number; height: number }): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: viewport.width < 600 });
    await Promise.all([this.event('Page.loadEventFired', sessionId), page.send('Page.navigate', { url })]);
    return page;
  }

  async close(): Promise<void> {
    try {
      process.kill(-this.#child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exitOf(this.#child, 'chromium to die of SIGKILL', { log: () => this.#stderr });
    // Its helpers may still be writing the profile for a moment.
    rmSync(this.#profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }

  #dispatch(reply: Reply): void {
    if (reply.id === undefined) {
      for (const listener of this.#listeners) listener(reply);
      return;
    }
    const pending = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    if (reply.error) pending?.reject(new Error(`chromium: ${reply.error.message}`));
    else pending?.resolve(reply.result ?? {});
  }
}

/** One tab. */
export class Page {
  constructor(
    readonly browser: Chromium,
    readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Buffer> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
