import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import { UID_MAX_LENGTH } from './messages.js'

const file = (name: string): string => readFileSync(new URL(`./demo/${name}`, import.meta.url), 'utf8')

/** Only the page's own files; `unsafe-eval` because protobufjs compiles its codecs (protobuf mode). */
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const Token = Type.Object({ token: Type.String() })

/**
 * The demo chat page at `/` (examples/chat/demo): it loads the client SDK from
 * `/gate/client.js`. With `devTokens` (the app runs on the insecure default
 * token secret), `GET /demo/token?uid=` hands out login tokens so that the page
 * works without a terminal; with a real secret that route does not exist.
 */
export async function demoPage (app: FastifyInstance, opts: { devTokens?: (uid: string) => string }): Promise<void> {
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
