import rateLimit from '@fastify/rate-limit'
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { fileURLToPath } from 'node:url'
import gatePlugin from '../../plugins/gate.js'
import type { ChatConfig } from './config.js'
import { canJoin, registerChat } from './handlers.js'
import { demoPage } from './demo.js'
import { tokenSigner, tokenVerifier } from './tokens.js'

export const PROTO_PATH = fileURLToPath(new URL('./chat.proto', import.meta.url))

/** Builds the example chat gateway (not yet listening). */
export async function buildChatApp (config: ChatConfig, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  // No log line per request: a flood of requests is not a flood of log lines (errors are logged, capped, below).
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' }, logController: new LogController({ disableRequestLogging: true }), ...fastifyOptions })
  if (config.tokenSecretDefaulted) app.log.warn('GATE_TOKEN_SECRET is not set: login tokens use the insecure default secret "dev-secret"')
  // Every HTTP route, the admin API's and unknown paths included, at GATE_HTTP_RATE_PER_IP requests a
  // second per address; the gate's WebSocket upgrades have their own admission (GATE_CONN_RATE_PER_IP).
  // An app-wide onRequest hook runs before every route's own hooks (the admin token check) and for unknown paths too.
  if (config.httpRatePerIp > 0) {
    await app.register(rateLimit, { global: false, max: config.httpRatePerIp, timeWindow: 1000, allowList: request => request.routeOptions.config.rateLimit === false })
    app.addHook('onRequest', app.rateLimit())
    // A request over the rate gets its 429 and the connection closes after it: nothing more the client
    // pipelined is read (what one read already brought is still answered), so a client that keeps
    // going costs one read's worth of requests a connection, not all it can write.
    app.addHook('onSend', async (_request, reply) => { if (reply.statusCode === 429) void reply.header('connection', 'close') })
  }
  await app.register(gatePlugin, {
    tcp: config.tcpPort === false ? false : { port: config.tcpPort, host: config.host },
    mqtt: { tcp: config.mqttPort === false ? undefined : { port: config.mqttPort, host: config.host } },
    encoding: config.encoding,
    protobuf: config.encoding === 'protobuf' ? { root: PROTO_PATH } : undefined,
    maxConnNum: config.maxConn,
    idleTimeout: config.idleTimeout,
    loginTimeout: config.loginTimeout,
    maxConnPerIp: config.maxConnPerIp,
    connRatePerIp: config.connRatePerIp,
    msgRate: config.msgRate,
    msgRatePerIp: config.msgRatePerIp,
    lenMsgLen: config.lenMsgLen,
    littleEndian: config.littleEndian,
    textFrames: config.textFrames,
    closeNotice: 'S2C_Close',
    probeMessage: 'C2S_UserHeartBeat',
    // SDK subscribes and requests (docs/protocol.md section 10), each subscribe authorized by canJoin
    clientControl: true,
    canJoin,
    drainTime: config.drainTime,
    nodeId: config.nodeId,
    redis: config.redisClusterNodes !== undefined ? { clusterNodes: config.redisClusterNodes } : config.redisUrl,
    history: config.historyMaxCount > 0 ? { maxCount: config.historyMaxCount, maxAge: config.historyMaxAge, maxBytes: config.historyMaxBytes } : undefined,
    admin: { tokens: [config.adminToken], dashboard: true, client: true, ratePerIp: config.httpRatePerIp }
  })
  app.setErrorHandler(function (err: FastifyError, request, reply) {
    // Server errors are logged, one line per kind and the repeats capped; client errors are the client's.
    if ((err.statusCode ?? 500) >= 500) {
      const suppressed = app.gate.logLimiter.allow(`http:${err.code ?? 'error'}`)
      if (suppressed >= 0) request.log.error({ err, suppressed }, 'request failed')
    }
    void reply.send(err)
  })
  const verifyToken = tokenVerifier(config.tokenSecret)
  registerChat(app.gate, verifyToken, config.historyMaxCount > 0)
  // Dev tokens only while the secret is the insecure default (a warning is logged above).
  await app.register(demoPage, { devTokens: config.tokenSecretDefaulted ? tokenSigner(config.tokenSecret, 3600) : undefined, verifyToken })
  return app
}
