import type { FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { GateError } from '../src/errors.js'

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest()

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110). */
const BEARER = /^Bearer +([^\s]+) *$/i

/**
 * Checks a bearer token against any of `tokens` in constant time: every token is
 * compared as a SHA-256 digest (equal lengths, so `timingSafeEqual` applies), and
 * every one is compared whatever the outcome, so neither the length of a token nor
 * which one matched shows in the timing. With no tokens, nothing is accepted.
 * Tokens must be non-empty (the options check it): a missing header is checked as
 * the empty token.
 */
export function tokenChecker (tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const digests = tokens.map(sha256)
  return authorization => {
    const presented = sha256(BEARER.exec(authorization ?? '')?.[1] ?? '')
    let ok = false
    for (const digest of digests) ok = timingSafeEqual(digest, presented) || ok
    return ok
  }
}

/**
 * An `onRequest` hook answering 401 `FST_GATE_UNAUTHORIZED` to a request without a
 * valid bearer token. A missing token and a wrong one get the same answer.
 */
export function bearerAuth (tokens: readonly string[]): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const check = tokenChecker(tokens)
  return async (request, reply) => {
    if (check(request.headers.authorization)) return
    void reply.header('www-authenticate', 'Bearer')
    throw new GateError.UNAUTHORIZED()
  }
}
