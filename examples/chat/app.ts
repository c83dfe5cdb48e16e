import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { fileURLToPath } from 'node:url'
import gatePlugin from '../../plugins/gate.js'
import type { ChatConfig } from './config.js'
import { registerChat } from './handlers.js'
import { demoPage } from './demo.js'
import { tokenSigner, tokenVerifier } from './tokens.js'

export const PROTO_PATH = fileURLToPath(new URL('./chat.proto', import.meta.url))

/** Builds the example chat gateway (not yet listening). */
export async function buildChatApp (config: ChatConfig, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' }, ...fastifyOptions })
  if (config.tokenSecretDefaulted) app.log.warn('GATE_TOKEN_SECRET is not set: login tokens use the insecure default secret "dev-secret"')
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
    drainTime: config.drainTime,
    nodeId: config.nodeId,
    redis: config.redisClusterNodes !== undefined ? { clusterNodes: config.redisClusterNodes } : config.redisUrl,
    history: config.historyMaxCount > 0 ? { maxCount: config.historyMaxCount, maxAge: config.historyMaxAge } : undefined,
    admin: { tokens: [config.adminToken], dashboard: true, client: true }
  })
  const verifyToken = tokenVerifier(config.tokenSecret)
  registerChat(app.gate, verifyToken, config.historyMaxCount > 0)
  // Dev tokens only while the secret is the insecure default (a warning is logged above).
  await app.register(demoPage, { devTokens: config.tokenSecretDefaulted ? tokenSigner(config.tokenSecret, 3600) : undefined, verifyToken })
  return app
}
