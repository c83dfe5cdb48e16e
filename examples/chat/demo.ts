import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import { CONTENT_MAX_LENGTH, ROOM_MAX_LENGTH, UID_MAX_LENGTH } from './messages.js'

const file = (name: string): string => readFileSync(new URL(`./demo/${name}`, import.meta.url), 'utf8')

/** Only the page's own files; `unsafe-eval` because protobufjs compiles its codecs (protobuf mode). */
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const Token = Type.Object({ token: Type.String() })
const Limits = Type.Object({
  content: Type.Integer({ description: 'C2S_Message content, in UTF-16 code units (messages.ts)' }),
  uid: Type.Integer(),
  room: Type.Integer(),
  rooms: Type.Integer({ description: 'rooms in one C2S_UpdateWatchRoom' })
})
const Refused = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() })
const Online = Type.Object({ total: Type.Integer(), uids: Type.Array(Type.String()) })
/** Rooms in one `C2S_UpdateWatchRoom` (its schema's `maxItems`). */
const MAX_ROOMS = 64
/** Uids listed by `GET /demo/online`. */
const ONLINE_PAGE = 100

/**
 * The demo chat page at `/` (examples/chat/demo): it loads the client SDK from
 * `/gate/client.js`, and two small routes of its own:
 * - `GET /demo/limits`: the message schemas' limits, which the page enforces
 *   before sending (a body over them would close the connection with 1007);
 * - `GET /demo/online`: who is online (the first 100 uids and the total), for
 *   logged-in users only: `Authorization: Bearer <login token>`, checked with
 *   `verifyToken` as a login is. The admin API has the same list behind the admin token.
 * With `devTokens` (the app runs on the insecure default token secret),
 * `GET /demo/token?uid=` hands out login tokens so that the page works without
 * a terminal; with a real secret that route does not exist.
 */
export async function demoPage (app: FastifyInstance, opts: { devTokens?: (uid: string) => string, verifyToken: (token: string) => string }): Promise<void> {
  const assets: Record<string, { type: string, body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: file('index.html') },
    '/demo/demo.js': { type: 'text/javascript; charset=utf-8', body: file('demo.js') },
    '/demo/demo.css': { type: 'text/css; charset=utf-8', body: file('demo.css') }
  }
  for (const [url, asset] of Object.entries(assets)) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => await reply
      .type(asset.type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(asset.body))
  }
  app.get('/demo/limits', { schema: { hide: true, response: { 200: Limits } } },
    async () => ({ content: CONTENT_MAX_LENGTH, uid: UID_MAX_LENGTH, room: ROOM_MAX_LENGTH, rooms: MAX_ROOMS }))
  app.get('/demo/online', {
    schema: { hide: true, headers: Type.Object({ authorization: Type.String({ pattern: '^Bearer \\S+$' }) }), response: { 200: Online, 401: Refused } }
  }, async (request, reply) => {
    try {
      opts.verifyToken((request.headers.authorization as string).slice('Bearer '.length))
    } catch {
      return await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'a valid login token is needed' })
    }
    const page = await app.gate.users(0, ONLINE_PAGE)
    return { total: page.total, uids: page.items.map(item => item.uid) }
  })
  const sign = opts.devTokens
  if (sign === undefined) return
  app.get('/demo/token', {
    schema: {
      hide: true,
      querystring: Type.Object({ uid: Type.String({ minLength: 1, maxLength: UID_MAX_LENGTH }) }),
      response: { 200: Token }
    }
  }, async (request) => ({ token: sign((request.query as { uid: string }).uid) }))
}
