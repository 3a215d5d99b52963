import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Secret } from '../schema/secret.js';
import { ApiError } from './api-error.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * With `[runner] api_token` set, a hook that lets a request through only with
 * `Authorization: Bearer <token>`; without it, undefined (the API is open).
 * Runs before the body is read, so an unauthenticated client cannot make the
 * runner buffer a large body. Both sides are hashed first so the comparison
 * takes the same time whatever the length or content of the guess.
 */
export function bearerAuth(token: Secret | undefined): onRequestHookHandler | undefined {
  if (token === undefined) return undefined;
  const expected = digest(token.reveal());
  return async (request: FastifyRequest, reply) => {
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    if (match && timingSafeEqual(digest(match[1]!), expected)) return;
    reply.header('WWW-Authenticate', 'Bearer realm="pythond"');
    throw new ApiError(
      'unauthorized',
      request.headers.authorization === undefined
        ? 'this endpoint needs "Authorization: Bearer <token>" with the runner\'s api_token'
        : "the bearer token does not match the runner's api_token",
    );
  };
}
