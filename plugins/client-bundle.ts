import type { FastifyInstance } from 'fastify'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GateError } from '../src/errors.js'
import { asset } from './dashboard-assets.js'

/**
 * Where `npm run build:ui` writes the client SDK's browser bundle: from the
 * sources (`plugins/`) `../dist/browser`, from the package (`dist/plugins/`) `../browser`.
 */
const CANDIDATES = ['../dist/browser/', '../browser/'].map(dir => fileURLToPath(new URL(dir, import.meta.url)))
const FILE = 'gate-client.js'

/**
 * `GET <prefix>/client.js`: the client SDK (`fastify-gate/client`) as one ES
 * module, for pages without a bundler (`import { createClient } from '/gate/client.js'`).
 * Public, like `<prefix>/protocol`: it is the same code as the npm package.
 */
export async function clientBundle (app: FastifyInstance): Promise<void> {
  const dir = CANDIDATES.find(d => existsSync(join(d, FILE)))
  if (dir === undefined) throw new GateError.INVALID_OPTION('admin.client', 'the client bundle is not built (run `npm run build:ui`)')
  const file = asset(join(dir, FILE))
  app.get('/client.js', { schema: { hide: true } }, async (request, reply) => {
    const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
    void reply
      .type(file.type)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding')
      .header('access-control-allow-origin', '*')
    if (gzip) void reply.header('content-encoding', 'gzip')
    return gzip ? file.gzip : file.raw
  })
}
