import swagger from '@fastify/swagger'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import broadcastRoutes from '../routes/admin/broadcast.js'
import counterRoutes from '../routes/admin/counters.js'
import figureRoutes from '../routes/admin/figures.js'
import kickRoutes from '../routes/admin/kick.js'
import messageRoutes from '../routes/admin/messages.js'
import protocolRoutes from '../routes/admin/protocol.js'
import pushRoutes from '../routes/admin/push.js'
import roomRoutes from '../routes/admin/rooms.js'
import roomPresenceRoutes from '../routes/admin/room-presence.js'
import { ADMIN_TAG, errors } from '../routes/admin/schemas.js'
import { SENDS_MESSAGE, messageVariants } from '../routes/admin/send.js'
import statsRoutes from '../routes/admin/stats.js'
import userRoutes from '../routes/admin/users.js'
import historyRoutes from '../routes/admin/history.js' // [history]
import settingsRoutes from '../routes/admin/settings.js' // [session]
import { bool, fail, int } from '../src/option-checks.js'
import { bearerAuth } from './admin-auth.js'
import { clientBundle } from './client-bundle.js'
import { strictValidatorCompiler } from './admin-validator.js'
import { dashboardPage } from './dashboard.js'
import { metricsPlugin } from './metrics.js'

/** The `admin` option of the gate plugin (`admin: false` switches the admin API off). */
export interface AdminOptions {
  /**
   * Bearer token(s) of the admin API; a list allows rotation (any of them works).
   * Without one, every route but the public `GET <prefix>/protocol` answers 401
   * (and a warning is logged at start): the admin API never runs open.
   */
  tokens?: string | readonly string[]
  /** Prefix of the admin routes. Default `/gate`. */
  prefix?: string
  /** Serve `GET <prefix>/protocol` without a token (clients need it). Default `true`. */
  publicProtocol?: boolean
  /** Serve Prometheus metrics at `GET <prefix>/metrics`, behind the token. Default `true`. */
  metrics?: boolean
  /**
   * Serve the live dashboard at `GET <prefix>/ui/` (it logs in with an admin
   * token), with `GET <prefix>/figures`, `<prefix>/messages` and
   * `<prefix>/users/:uid/counters`. Default `false`.
   */
  dashboard?: boolean
  /**
   * Serve the client SDK's browser bundle at `GET <prefix>/client.js`, without a
   * token (pages import it: `import { createClient } from '/gate/client.js'`).
   * Default `false`.
   */
  client?: boolean
  /**
   * Requests per second per client IP to the admin routes (@fastify/rate-limit,
   * `request.ip`: behind a proxy, set Fastify's `trustProxy`); past it 429 with
   * `Retry-After`, before the token is checked. Default 100; `0` turns it off.
   * When the app registered @fastify/rate-limit itself, its limit applies
   * instead (give it an app-wide `onRequest` hook, as the example app does, so
   * that it runs before the token check).
   */
  ratePerIp?: number
}

export interface NormalizedAdminOptions {
  tokens: readonly string[]
  prefix: string
  publicProtocol: boolean
  metrics: boolean
  dashboard: boolean
  client: boolean
  ratePerIp: number
}

const flag = (option: string, value: unknown, fallback = true): boolean => value === undefined ? fallback : bool(`admin.${option}`, value)

/** Validates the admin options once, at register time. Throws `FST_GATE_INVALID_OPTION`. */
export function normalizeAdminOptions (opts: AdminOptions = {}): NormalizedAdminOptions {
  if (typeof opts !== 'object' || opts === null) fail('admin', 'must be an object or false')
  const tokens = opts.tokens === undefined ? [] : typeof opts.tokens === 'string' ? [opts.tokens] : opts.tokens
  // A token with whitespace could never be sent as `Bearer <token>`.
  if (!Array.isArray(tokens) || !tokens.every(t => typeof t === 'string' && /^\S+$/.test(t))) {
    fail('admin.tokens', 'must be a non-empty string without whitespace, or an array of them')
  }
  const prefix = opts.prefix ?? '/gate'
  if (typeof prefix !== 'string' || !/^\/[^\s?#]*$/.test(prefix)) fail('admin.prefix', 'must be a path starting with "/"')
  return {
    tokens,
    prefix: prefix.replace(/\/+$/, ''),
    publicProtocol: flag('publicProtocol', opts.publicProtocol),
    metrics: flag('metrics', opts.metrics),
    dashboard: flag('dashboard', opts.dashboard, false),
    client: flag('client', opts.client, false),
    ratePerIp: int('admin.ratePerIp', opts.ratePerIp ?? 100, 0)
  }
}

/**
 * Every admin error in Fastify's shape, `{ statusCode, code, error, message }`,
 * whatever error handler the host app sets. Unexpected errors answer 500 without
 * their message (it is logged).
 */
function adminErrorHandler (this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  const expose = status < 500 || err.code?.startsWith('FST_GATE_') === true
  // One line per kind of error, repeats capped: a flood of bad requests is not a flood of log lines.
  const suppressed = this.gate.logLimiter.allow(`admin:${status}:${err.code ?? ''}`)
  // A coded 5xx (e.g. 503 while Redis is unreachable) is an expected state, not a bug.
  if (suppressed < 0) {
    // capped
  } else if (status >= 500 && !expose) request.log.error({ err, suppressed }, 'admin request failed')
  else if (status >= 500) request.log.warn({ code: err.code, statusCode: status, suppressed }, err.message)
  else request.log.info({ code: err.code, statusCode: status, suppressed }, err.message)
  void reply.code(status).send({
    statusCode: status,
    code: (expose ? err.code : undefined) ?? 'FST_GATE_INTERNAL',
    error: STATUS_CODES[status] ?? 'Error',
    message: expose ? err.message : 'Internal Server Error'
  })
}

/**
 * The admin HTTP API of docs/protocol.md section 5, under `prefix`, in a context
 * of its own: its token check, error handler, strict validator (no coercion of
 * bodies, unknown fields refused) and OpenAPI document (its own @fastify/swagger
 * instance, `GET <prefix>/openapi.json`) do not touch the host app's routes, and
 * a host's own @fastify/swagger is left alone.
 */
async function admin (app: FastifyInstance, opts: AdminOptions): Promise<void> {
  const o = normalizeAdminOptions(opts)
  if (o.tokens.length === 0) {
    const open = o.publicProtocol ? ` but ${o.prefix}/protocol` : ''
    app.log.warn(`fastify-gate admin API: no admin.tokens given, so every admin route${open} answers 401; give tokens, or set admin: false`)
  }

  await app.register(async function gateAdmin (scope) {
    scope.setErrorHandler(adminErrorHandler)
    if (o.ratePerIp > 0 && !scope.hasDecorator('rateLimit')) {
      // A hook of this scope, not of each route: it runs before the token check, so a flood of unauthenticated requests is limited too.
      await scope.register(rateLimit, { global: false, max: o.ratePerIp, timeWindow: 1000 })
      scope.addHook('onRequest', scope.rateLimit())
    }
    scope.setValidatorCompiler(strictValidatorCompiler)
    await scope.register(swagger, {
      openapi: {
        info: {
          title: 'fastify-gate admin API',
          version: '1.0.0',
          description: 'Operate a fastify-gate gateway: online users, kicks, pushes and broadcasts, cluster-wide. See docs/admin-api.md.',
          license: { name: 'MIT', url: 'https://opensource.org/license/mit' }
        },
        servers: [{ url: '/', description: 'the gateway that serves this document' }],
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearerAuth: [] }],
        tags: [{ name: ADMIN_TAG, description: 'fastify-gate admin API' }]
      },
      transform: ({ schema, url, route }) => {
        // The metrics route is the metrics plugin's; it is named here.
        if (url.endsWith('/metrics')) return { schema: { operationId: 'getMetrics', summary: 'Prometheus metrics of this node', ...schema }, url }
        // The push routes' bodies are documented as one variant per registered message.
        if ((route.config as Record<string, unknown> | undefined)?.[SENDS_MESSAGE] !== true || schema?.body === undefined) return { schema, url }
        return { schema: { ...schema, body: messageVariants(app.gate, schema.body as never) }, url }
      }
    })
    if (o.publicProtocol) await scope.register(protocolRoutes, { public: true })
    if (o.dashboard) await scope.register(dashboardPage)
    if (o.client) await scope.register(clientBundle)

    await scope.register(async function authenticated (secured) {
      secured.addHook('onRequest', bearerAuth(o.tokens))
      if (!o.publicProtocol) await secured.register(protocolRoutes, { public: false })
      await secured.register(statsRoutes)
      await secured.register(userRoutes)
      await secured.register(historyRoutes) // [history]
      await secured.register(settingsRoutes) // [session]
      await secured.register(kickRoutes)
      await secured.register(pushRoutes)
      await secured.register(roomRoutes)
      await secured.register(roomPresenceRoutes)
      await secured.register(broadcastRoutes)
      if (o.dashboard) {
        await secured.register(figureRoutes)
        await secured.register(messageRoutes)
        await secured.register(counterRoutes)
      }
      if (o.metrics) await secured.register(metricsPlugin, { schema: { tags: [ADMIN_TAG], response: errors(401) } })
      secured.get('/openapi.json', { schema: { hide: true } }, async () => scope.swagger())
    })
  }, { prefix: o.prefix })
}

export const adminPlugin = fp(admin, {
  fastify: '5.x',
  name: 'fastify-gate-admin',
  dependencies: ['fastify-gate']
})

export default adminPlugin
