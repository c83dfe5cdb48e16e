import { randomBytes } from 'node:crypto'
import { workerCount } from '../../src/workers/options.js'

/** The example app's configuration, from the environment (docs/protocol.md section 6). */
export interface ChatConfig {
  host: string
  port: number
  /** `false` when GATE_TCP_PORT=off. */
  tcpPort: number | false
  /** MQTT over TCP (GATE_MQTT_PORT); `false` when off. MQTT over WebSocket at `/mqtt` is always on. */
  mqttPort: number | false
  encoding: 'json' | 'protobuf'
  adminToken: string
  /** True when GATE_ADMIN_TOKEN was not set and a random one was made. */
  adminTokenGenerated: boolean
  tokenSecret: string
  /** True when GATE_TOKEN_SECRET was not set (the insecure default is in use). */
  tokenSecretDefaulted: boolean
  redisUrl: string | undefined
  /** REDIS_CLUSTER_NODES: `host:port` seeds of a Redis Cluster; exclusive with `redisUrl`. */
  redisClusterNodes: string[] | undefined
  nodeId: string | undefined
  maxConn: number
  idleTimeout: number
  /** ms without login before 4003; 0 disables. */
  loginTimeout: number
  /** Open connections per client IP; 0 disables. */
  maxConnPerIp: number
  /** New connections per second per client IP; 0 disables. */
  connRatePerIp: number
  /** Messages per second per connection; 0 disables. */
  msgRate: number
  /** Messages per second for all connections of one client IP (GATE_MSG_RATE_PER_IP); 0 disables. */
  msgRatePerIp: number
  /** HTTP requests per second per client IP (GATE_HTTP_RATE_PER_IP); 0 disables. */
  httpRatePerIp: number
  /** TCP length prefix bytes: 1, 2 (default) or 4 (GATE_LEN_MSG_LEN), as leaf's `LenMsgLen`. */
  lenMsgLen: 1 | 2 | 4
  /** Little-endian length prefix and protobuf id (GATE_LITTLE_ENDIAN), as leaf's `LittleEndian`. */
  littleEndian: boolean
  /** JSON sent to WebSocket clients in text frames (GATE_TEXT_FRAMES), for browsers. */
  textFrames: boolean
  /** Messages kept per uid (GATE_HISTORY_MAX_COUNT); 0 turns history off. */
  historyMaxCount: number
  /** ms a message is kept (GATE_HISTORY_MAX_AGE). */
  historyMaxAge: number
  /** Bytes all history together may hold (GATE_HISTORY_MAX_BYTES; with Redis, per node: the streams it writes). */
  historyMaxBytes: number
  /** ms over which a stopping node spreads the closing of its connections (GATE_DRAIN_TIME). */
  drainTime: number
  /** Worker processes sharing the ports (GATE_WORKERS): a number, or `auto`, one per core. */
  workers: number | 'auto'
}

export const DEFAULT_TOKEN_SECRET = 'dev-secret'

function port (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number 0-65535, got "${value}"`)
  return n
}

function nonNegativeInt (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return n
}

function flag (name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false
  if (value === '1' || value === 'true') return true
  throw new Error(`${name} must be 1/true or 0/false, got "${value}"`)
}

function lenMsgLen (value: string | undefined): 1 | 2 | 4 {
  if (value === undefined || value === '') return 2
  if (value === '1' || value === '2' || value === '4') return Number(value) as 1 | 2 | 4
  throw new Error(`GATE_LEN_MSG_LEN must be 1, 2 or 4, got "${value}"`)
}

function historyMaxAge (value: string | undefined): number {
  const n = nonNegativeInt('GATE_HISTORY_MAX_AGE', value, 3_600_000)
  if (n < 1000) throw new Error(`GATE_HISTORY_MAX_AGE must be at least 1000 (ms), got "${value ?? ''}"`)
  return n
}

function workersOf (value: string | undefined): number | 'auto' {
  if (value === undefined || value === '') return 1
  if (value === 'auto') return 'auto'
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`GATE_WORKERS must be a number of workers (1-1024) or "auto", got "${value}"`)
  return n
}

function clusterNodes (value: string | undefined): string[] | undefined {
  if (value === undefined || value === '') return undefined
  const nodes = value.split(',').map(node => node.trim())
  for (const node of nodes) {
    const m = /^(.+):(\d+)$/.exec(node)
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`REDIS_CLUSTER_NODES must be comma-separated host:port, got "${value}"`)
  }
  return nodes
}

/** Reads and checks the environment; throws a readable error on a bad value. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): ChatConfig {
  const encoding = env.GATE_ENCODING ?? 'json'
  if (encoding !== 'json' && encoding !== 'protobuf') throw new Error(`GATE_ENCODING must be "json" or "protobuf", got "${encoding}"`)
  const tcp = env.GATE_TCP_PORT
  const maxConn = nonNegativeInt('GATE_MAX_CONN', env.GATE_MAX_CONN, 10000)
  const workers = workersOf(env.GATE_WORKERS)
  const n = workerCount(workers)
  if (n > 1 && !env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
    throw new Error(`GATE_WORKERS=${String(env.GATE_WORKERS)} starts ${n} workers, but each worker is a node of a cluster, and nodes share users, rooms and history only through Redis: set REDIS_URL (or REDIS_CLUSTER_NODES), or GATE_WORKERS=1`)
  }
  if (maxConn === 0) throw new Error('GATE_MAX_CONN must be at least 1')
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) throw new Error('REDIS_URL and REDIS_CLUSTER_NODES are exclusive: set one (a single Redis, or a Redis Cluster\'s seeds)')
  return {
    host: env.HOST || '127.0.0.1',
    port: port('PORT', env.PORT, 3000),
    tcpPort: tcp === 'off' ? false : port('GATE_TCP_PORT', tcp, 3001),
    mqttPort: env.GATE_MQTT_PORT === 'off' ? false : port('GATE_MQTT_PORT', env.GATE_MQTT_PORT, 3002),
    encoding,
    adminToken: env.GATE_ADMIN_TOKEN || randomBytes(18).toString('base64url'),
    adminTokenGenerated: !env.GATE_ADMIN_TOKEN,
    tokenSecret: env.GATE_TOKEN_SECRET || DEFAULT_TOKEN_SECRET,
    tokenSecretDefaulted: !env.GATE_TOKEN_SECRET,
    redisUrl: env.REDIS_URL || undefined,
    redisClusterNodes: clusterNodes(env.REDIS_CLUSTER_NODES),
    nodeId: env.GATE_NODE_ID || undefined,
    maxConn,
    idleTimeout: nonNegativeInt('GATE_IDLE_TIMEOUT', env.GATE_IDLE_TIMEOUT, 60000),
    loginTimeout: nonNegativeInt('GATE_LOGIN_TIMEOUT', env.GATE_LOGIN_TIMEOUT, 10000),
    maxConnPerIp: nonNegativeInt('GATE_MAX_CONN_PER_IP', env.GATE_MAX_CONN_PER_IP, 1000),
    connRatePerIp: nonNegativeInt('GATE_CONN_RATE_PER_IP', env.GATE_CONN_RATE_PER_IP, 100),
    msgRate: nonNegativeInt('GATE_MSG_RATE', env.GATE_MSG_RATE, 100),
    msgRatePerIp: nonNegativeInt('GATE_MSG_RATE_PER_IP', env.GATE_MSG_RATE_PER_IP, 1000),
    httpRatePerIp: nonNegativeInt('GATE_HTTP_RATE_PER_IP', env.GATE_HTTP_RATE_PER_IP, 100),
    lenMsgLen: lenMsgLen(env.GATE_LEN_MSG_LEN),
    littleEndian: flag('GATE_LITTLE_ENDIAN', env.GATE_LITTLE_ENDIAN),
    textFrames: flag('GATE_TEXT_FRAMES', env.GATE_TEXT_FRAMES),
    historyMaxCount: nonNegativeInt('GATE_HISTORY_MAX_COUNT', env.GATE_HISTORY_MAX_COUNT, 1000),
    historyMaxAge: historyMaxAge(env.GATE_HISTORY_MAX_AGE),
    historyMaxBytes: nonNegativeInt('GATE_HISTORY_MAX_BYTES', env.GATE_HISTORY_MAX_BYTES, 64 * 1024 * 1024),
    drainTime: nonNegativeInt('GATE_DRAIN_TIME', env.GATE_DRAIN_TIME, 5000),
    workers
  }
}
