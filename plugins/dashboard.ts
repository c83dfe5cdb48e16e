import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { FigureSampler } from '../src/figures/sampler.js'
import { loadDashboardAssets, type Asset } from './dashboard-assets.js'

/**
 * The page may load only its own scripts and styles (no inline code, no eval)
 * and talk only to its own origin; it may not be framed.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

function send (request: FastifyRequest, reply: FastifyReply, file: Asset, cache: string): Buffer {
  const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
  void reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cache)
    .header('vary', 'accept-encoding')
    .type(file.type)
  if (gzip) void reply.header('content-encoding', 'gzip')
  return gzip ? file.gzip : file.raw
}

const hidden = { schema: { hide: true } }

/**
 * The dashboard page at `<prefix>/ui/`, in the admin plugin's public scope: the
 * page and its assets hold no data; every figure it shows comes from the admin
 * API with the token typed into its login form. Also starts this node's figure
 * sampler, which `GET <prefix>/figures` reads (on every node of a cluster).
 */
export async function dashboardPage (app: FastifyInstance): Promise<void> {
  const { page, files } = loadDashboardAssets()
  const sampler = new FigureSampler(app.gate.runtime)
  app.gate.runtime.reporter = () => sampler.figures()
  app.addHook('onReady', async () => { sampler.start() })
  app.addHook('onClose', async () => { sampler.stop() })

  // Relative asset URLs in the page need the trailing slash.
  app.get('/ui', hidden, async (request, reply) => await reply.redirect(`${request.url.split('?')[0]}/`))
  app.get('/ui/', hidden, async (request, reply) => send(request, reply, page, 'no-cache'))
  app.get('/ui/assets/:file', {
    schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 100 }) }) }
  }, async (request, reply) => {
    const file = files.get((request.params as { file: string }).file)
    if (file === undefined) return await reply.code(404).send({ statusCode: 404, code: 'FST_GATE_NOT_FOUND', error: 'Not Found', message: 'No such dashboard file' })
    // File names carry a content hash: a new build has new names.
    return send(request, reply, file, 'public, max-age=31536000, immutable')
  })
}
