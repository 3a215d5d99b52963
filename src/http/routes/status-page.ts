import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/** The status page's files, shipped in the package (`web/`) and served by the runner itself: no build step, nothing from the internet. */
const WEB_DIR = new URL('../../../../web/', import.meta.url);

const PAGE_FILES = {
  '/': { file: 'status.html', type: 'text/html; charset=utf-8' },
  '/ui/status.css': { file: 'status.css', type: 'text/css; charset=utf-8' },
  '/ui/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
} as const;

/**
 * Its own files only: no inline script or style, no other origin, not in a
 * frame. Collector text (errors, tracebacks) is untrusted; the page writes
 * it as text, and this is the second line of defence.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * GET /: the status page, read-only, which polls GET /v1/collectors (open,
 * like the page: see the API's README for who can see them). Its files are
 * read once, at start.
 */
export function statusPageRoutes(server: FastifyInstance): void {
  for (const [url, { file, type }] of Object.entries(PAGE_FILES)) {
    const body = readFileSync(new URL(file, WEB_DIR));
    server.get(url, async (_request, reply) => {
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .send(body);
    });
  }
}
