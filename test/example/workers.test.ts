/**
 * GATE_WORKERS (docs/cluster.md, "Workers"): the example gateway as a real
 * process tree, started as `npm start` starts it, on a private Redis and free
 * ports. Workers share the HTTP, leaf TCP and MQTT ports, each is the node
 * `<GATE_NODE_ID>-<n>`, a worker killed is started again, and SIGINT or
 * SIGTERM, to the top process or to its whole group, drains every worker.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, WsClient } from '../clients.js'
import { until } from '../helper.js'
import { noRedis } from '../history/app.js'
import { freePort } from '../ports.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'
import { startRedis } from '../redis-helper.js'
import { gone, logged, refused, startGateway, workerPids, type Gateway } from './gateway-process.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/example/workers.test.ts: GATE_WORKERS needs Redis)\n\n`)

const SECRET = 'workers-secret'
const sign = tokenSigner(SECRET)
const ADMIN = 'workers-admin'

interface Ports { port: number, tcpPort: number, mqttPort: number }

async function ports (): Promise<Ports> {
  return { port: await freePort(), tcpPort: await freePort(), mqttPort: await freePort() }
}

function envOf (p: Ports, extra: Record<string, string>): Record<string, string> {
  return {
    PORT: String(p.port),
    GATE_TCP_PORT: String(p.tcpPort),
    GATE_MQTT_PORT: String(p.mqttPort),
    GATE_TOKEN_SECRET: SECRET,
    GATE_ADMIN_TOKEN: ADMIN,
    GATE_CONN_RATE_PER_IP: '0',
    GATE_DRAIN_TIME: '1000',
    // A slow machine can take more than the default 60 s over one test: no idle closes.
    GATE_IDLE_TIMEOUT: '0',
    ...extra
  }
}

async function admin (p: Ports, path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${p.port}/gate${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return await res.json()
}

async function wsLogin (p: Ports, uid: string): Promise<WsClient> {
  const c = await WsClient.connect(`ws://127.0.0.1:${p.port}/ws`)
  c.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
  assert.equal((await c.nextOf('S2C_UserLogin')).body.ret, 1)
  return c
}

async function tcpLogin (p: Ports, uid: string): Promise<TcpClient> {
  const c = await TcpClient.connect(p.tcpPort)
  c.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
  assert.equal((await c.nextOf('S2C_UserLogin')).body.ret, 1)
  return c
}

async function mqttLogin (p: Ports, uid: string): Promise<RawMqtt> {
  const c = await RawMqtt.connect(p.mqttPort)
  assert.equal(await c.handshake({ clientId: uid, username: uid, password: Buffer.from(sign(uid)) }), 0)
  return c
}

/** The node of each uid's connections, from GET /gate/users/:uid on any worker. */
async function nodesOf (p: Ports, uids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const uid of uids) {
    const u = await admin(p, `/users/${encodeURIComponent(uid)}`)
    out.set(uid, u.connections[0].node)
  }
  return out
}

/**
 * `n` clients opened one after another: the primary hands each connection to
 * the next worker that is free, so connections opened one at a time alternate
 * (a burst would follow how fast each worker takes them).
 */
async function inTurn<T> (n: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(await open(i))
  return out
}

const countBy = (values: Iterable<string>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

/**
 * Two workers on free ports, every worker ready. A free port can be taken by
 * another process before the gateway binds it: then it starts again on others.
 */
async function startWorkers (t: Parameters<typeof startGateway>[0], redisUrl: string, detached = false): Promise<{ g: Gateway, p: Ports }> {
  for (let attempt = 1; ; attempt++) {
    const p = await ports()
    const g = startGateway(t, envOf(p, { REDIS_URL: redisUrl, GATE_WORKERS: '2', GATE_NODE_ID: 'w' }), { detached })
    try {
      await logged(g, l => l.msg === 'all workers ready', 'every worker to be ready')
      return { g, p }
    } catch (err) {
      if (attempt >= 3 || !g.output().includes('EADDRINUSE')) throw err
    }
  }
}

test('more than one worker without Redis refuses to start, saying why', { timeout: 60000 }, async (t) => {
  const cases = availableParallelism() > 1 ? ['2', 'auto'] : ['2']
  for (const workers of cases) {
    const g = startGateway(t, envOf(await ports(), { GATE_WORKERS: workers, REDIS_URL: '' }))
    assert.equal(await g.exited, 2)
    assert.match(g.output(), /configuration error: GATE_WORKERS=\S+ starts \d+ workers.*set REDIS_URL \(or REDIS_CLUSTER_NODES\)/)
  }
  const bad = startGateway(t, envOf(await ports(), { GATE_WORKERS: 'many' }))
  assert.equal(await bad.exited, 2)
  assert.match(bad.output(), /GATE_WORKERS must be/)
})

test('two workers share the HTTP, TCP and MQTT ports as nodes w-1 and w-2; a worker killed is started again; a stuck worker is killed at the drain bound', { skip: noRedis, timeout: 180000 }, async (t) => {
  const redis = await startRedis(t)
  const { g, p } = await startWorkers(t, redis.url)

  const ws = await inTurn(12, async i => await wsLogin(p, `ws${i}`))
  const tcp = await inTurn(6, async i => await tcpLogin(p, `tcp${i}`))
  const mqtt = await inTurn(4, async i => await mqttLogin(p, `mqtt${i}`))
  const uids = [...ws.map((_, i) => `ws${i}`), ...tcp.map((_, i) => `tcp${i}`), ...mqtt.map((_, i) => `mqtt${i}`)]
  await until(async () => (await admin(p, '/stats')).onlineUsers === uids.length, 10000, 'every login to be listed')
  const stats = await admin(p, '/stats')
  assert.equal(stats.nodes, 2)
  assert.equal(stats.connections, uids.length)

  // The ports are shared: each protocol's connections landed on both workers.
  const where = await nodesOf(p, uids)
  assert.deepEqual(new Set(where.values()), new Set(['w-1', 'w-2']))
  for (const prefix of ['ws', 'tcp', 'mqtt']) {
    const spread = countBy(uids.filter(u => u.startsWith(prefix) && /\d$/.test(u.slice(prefix.length))).map(u => where.get(u)!))
    t.diagnostic(`${prefix}: ${JSON.stringify(spread)}`)
    assert.deepEqual(Object.keys(spread).sort(), ['w-1', 'w-2'], `${prefix} connections on both workers`)
  }

  // Worker 1 killed: its clients drop, the others stay; it is started again as w-1.
  // By worker number: the ready lines come in whichever order the workers got ready.
  const pidOf = (n: number): number => g.logs().find(l => l.msg === 'worker ready' && l.worker === n)!.pid as number
  const [pid1, pid2] = [pidOf(1), pidOf(2)]
  const onW1 = ws.filter((_, i) => where.get(`ws${i}`) === 'w-1')
  const onW2 = ws.filter((_, i) => where.get(`ws${i}`) === 'w-2')
  process.kill(pid1, 'SIGKILL')
  for (const c of onW1) assert.equal((await c.closed).code, 1006)
  await logged(g, l => l.msg === 'worker died: starting it again' && l.worker === 1, 'the restart')
  const again = await logged(g, l => l.msg === 'worker ready' && l.worker === 1, 'worker 1 to be ready again', 2)
  assert.notEqual(again.pid, pid1)
  await until(async () => (await admin(p, '/stats')).nodes === 2, 15000, 'two nodes again')
  const fresh = await inTurn(6, async i => await wsLogin(p, `fresh${i}`))
  const freshUids = fresh.map((_, i) => `fresh${i}`)
  await until(async () => (await Promise.all(freshUids.map(async u => await admin(p, `/users/${u}`)))).every(u => u.connections?.length === 1), 10000, 'the fresh logins to be listed')
  assert.ok(Object.keys(countBy((await nodesOf(p, freshUids)).values())).includes('w-1'), 'the restarted worker takes connections')
  for (const c of onW2) assert.equal(c.ws.readyState, c.ws.OPEN, 'the other worker\'s clients never noticed')

  // Worker 2 stuck (SIGSTOP): SIGTERM to the top process drains worker 1 (1012) and kills
  // worker 2 at the bound (drain time + 5 s), then exits 1.
  process.kill(pid2, 'SIGSTOP')
  process.kill(g.proc.pid!, 'SIGTERM')
  const codes = await Promise.all(fresh.map(async c => (await c.closed).code))
  assert.ok(codes.includes(1012), `the drained worker's clients got 1012: ${codes.join(',')}`)
  assert.equal(await g.exited, 1)
  assert.match(g.output(), /workers still running after the drain bound: killing them/)
  await until(() => gone(pid2) && gone(again.pid as number), 5000, 'no worker left')
  for (const port of [p.port, p.tcpPort, p.mqttPort]) await refused(port)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  for (const to of ['top process', 'process group'] as const) {
    test(`workers: ${signal} to the ${to} drains every worker (1012) and exits 0`, { skip: noRedis, timeout: 120000 }, async (t) => {
      const redis = await startRedis(t)
      const { g, p } = await startWorkers(t, redis.url, to === 'process group')
      const pids = workerPids(g)
      const clients = await inTurn(6, async i => await wsLogin(p, `u${i}`))
      const tcp = await tcpLogin(p, 'tcp')
      const where = await nodesOf(p, clients.map((_, i) => `u${i}`))
      assert.deepEqual(new Set(where.values()), new Set(['w-1', 'w-2']))

      process.kill(to === 'process group' ? -g.proc.pid! : g.proc.pid!, signal)
      for (const c of clients) assert.deepEqual(await c.closed, { code: 1012, reason: 'service restart' })
      assert.deepEqual((await tcp.nextOf('S2C_Close')).body, { code: 1012, reason: 'service restart' })
      assert.equal(await g.exited, 0, g.output())
      assert.doesNotMatch(g.output(), /second signal|killing/)
      await until(() => pids.every(gone), 5000, 'every worker to be gone')
      for (const port of [p.port, p.tcpPort, p.mqttPort]) await refused(port)
    })
  }
}
