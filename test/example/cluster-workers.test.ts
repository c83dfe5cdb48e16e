/**
 * Issue 17's "done when": two example gateways (`node --import tsx
 * examples/chat/server.ts`, as `npm start` runs it), each with GATE_WORKERS=2,
 * on one private Redis Cluster (REDIS_CLUSTER_NODES) make one gateway of four
 * nodes, a-1, a-2, b-1 and b-2. Every admin answer, whichever worker gives it,
 * covers all four; pushes, room pushes, broadcasts, uid-to-uid messages,
 * kicks and history work across workers and across gateways.
 *
 * An admin session is one worker's: the `node:cluster` primary hands a
 * connection to one worker, so every request on it is answered by that
 * worker, which `GET /gate/stats` names (`node`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, WsClient, type Received } from '../clients.js'
import { until } from '../helper.js'
import { freePort } from '../ports.js'
import { RedisClusterServer, noRedisCluster } from '../redis-cluster-helper.js'
import { logged, startGateway, type Gateway } from './gateway-process.js'

if (noRedisCluster !== false) process.stderr.write(`\n!!! ${noRedisCluster} (test/example/cluster-workers.test.ts)\n\n`)

const SECRET = 'cluster-workers-secret'
const ADMIN = 'cluster-workers-admin'
const sign = tokenSigner(SECRET)
const NODES = ['a-1', 'a-2', 'b-1', 'b-2']

interface Ports { port: number, tcpPort: number }

/** An HTTP answer, and the local port of the connection that carried it. */
interface Answer { status: number, body: any, via: number | undefined }

/**
 * One worker's admin API, over keep-alive connections. The gate drops a
 * connection idle for 5 s (`keepAliveTimeout`), and a new one may go to the
 * other worker: so every question is asked right after `GET /gate/stats` on
 * the same connection, and only when that names this session's worker (else
 * on a new connection).
 */
class Session {
  /** The worker that answers. */
  node = ''
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  private readonly port: number

  private constructor (port: number) {
    this.port = port
  }

  /** A session on whichever worker the primary gives a new connection to `port`. */
  static async open (port: number): Promise<Session> {
    const s = new Session(port)
    s.node = (await s.send('GET', '/stats')).body.node
    return s
  }

  /** A request on this session's worker. */
  async ask (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, body: any }> {
    for (let attempt = 1; ; attempt++) {
      const who = await this.send('GET', '/stats')
      if (who.body.node === this.node) {
        const answer = await this.send(method, path, body)
        if (answer.via === who.via) return answer
        // The connection was dropped between the two: whoever answered, this is a POST's only try.
        assert.equal(method, 'GET', `${this.node}: POST ${path} went out on a new connection`)
      }
      assert.ok(attempt < 20, `${this.node}: no connection to it in 20 tries`)
      this.agent.destroy()
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    }
  }

  private async send (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return await new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: this.port,
        method,
        path: `/gate${path}`,
        agent: this.agent,
        headers: { authorization: `Bearer ${ADMIN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }
      }, (res) => {
        const via = res.socket.localPort
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { text += d })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text), via }) })
      })
      req.on('error', reject)
      req.end(payload)
    })
  }

  async get (path: string): Promise<any> {
    const r = await this.ask('GET', path)
    assert.equal(r.status, 200, `${this.node}: GET ${path}: ${JSON.stringify(r.body)}`)
    return r.body
  }

  async post (path: string, body: unknown): Promise<any> {
    const r = await this.ask('POST', path, body)
    assert.equal(r.status, 200, `${this.node}: POST ${path}: ${JSON.stringify(r.body)}`)
    return r.body
  }

  close (): void {
    this.agent.destroy()
  }
}

/** One session on each worker behind `port` (`workers` of them): new connections until each worker answered one. */
async function sessionsOn (port: number, workers: string[]): Promise<Session[]> {
  const found = new Map<string, Session>()
  for (let attempt = 0; found.size < workers.length; attempt++) {
    assert.ok(attempt < 20, `sessions on ${workers.join(', ')}: only ${[...found.keys()].join(', ')} answered in 20 connections`)
    const s = await Session.open(port)
    if (found.has(s.node)) s.close()
    else found.set(s.node, s)
  }
  assert.deepEqual([...found.keys()].sort(), workers)
  return [...found.values()]
}

/**
 * One gateway of two workers on free ports, every worker ready. A free port can
 * be taken by another process before the gateway binds it: then it starts again on others.
 */
async function startTwoWorkers (t: Parameters<typeof startGateway>[0], id: string, seeds: string[]): Promise<{ g: Gateway, p: Ports }> {
  for (let attempt = 1; ; attempt++) {
    const p = { port: await freePort(), tcpPort: await freePort() }
    const g = startGateway(t, {
      PORT: String(p.port),
      GATE_TCP_PORT: String(p.tcpPort),
      GATE_MQTT_PORT: 'off',
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: seeds.join(','),
      GATE_WORKERS: '2',
      GATE_NODE_ID: id,
      GATE_TOKEN_SECRET: SECRET,
      GATE_ADMIN_TOKEN: ADMIN,
      GATE_CONN_RATE_PER_IP: '0',
      GATE_HTTP_RATE_PER_IP: '0',
      GATE_DRAIN_TIME: '500',
      // A slow machine can take more than the default 60 s over one test: no idle closes.
      GATE_IDLE_TIMEOUT: '0'
    })
    try {
      await logged(g, l => l.msg === 'all workers ready', `gateway ${id}: every worker to be ready`, 1, 120000)
      return { g, p }
    } catch (err) {
      if (attempt >= 3 || !g.output().includes('EADDRINUSE')) throw err
    }
  }
}

type ChatClient = WsClient | TcpClient

/** Logs `uid` in (with `resume`: asking for positions); resolves with the client and its login answer. */
async function login (p: Ports, transport: 'ws' | 'tcp', uid: string, resume?: string): Promise<{ c: ChatClient, answer: Received, before: Received[] }> {
  const c = transport === 'ws' ? await WsClient.connect(`ws://127.0.0.1:${p.port}/ws`) : await TcpClient.connect(p.tcpPort)
  c.send('C2S_UserLogin', resume === undefined ? { token: sign(uid), login_plat: 1 } : { token: sign(uid), login_plat: 1, resume_pos: resume })
  // With resume_pos, the missed messages come before the answer.
  const before: Received[] = []
  for (;;) {
    const m = await c.next(15000)
    if (m.name === 'S2C_UserLogin') {
      assert.equal(m.body.ret, 1, `${uid}: ${JSON.stringify(m.body)}`)
      return { c, answer: m, before }
    }
    before.push(m)
  }
}

const message = (content: string): Record<string, unknown> => ({ from_uid: 'admin', content, ts: 1 })

test('two gateways of two workers on one Redis Cluster: admin answers on any worker cover all four nodes; push, room push, broadcast, kick and history work across workers and nodes', { skip: noRedisCluster, timeout: 300000 }, async (t) => {
  const cluster = await RedisClusterServer.start()
  t.after(() => cluster.close())
  const [A, B] = await Promise.all([startTwoWorkers(t, 'a', cluster.seeds), startTwoWorkers(t, 'b', cluster.seeds)])

  // Clients opened one at a time alternate between a gateway's workers: each worker gets WebSocket and TCP clients.
  const clients = new Map<string, ChatClient>()
  for (const [name, g] of [['a', A.p], ['b', B.p]] as const) {
    for (let i = 0; i < 4; i++) clients.set(`${name}-ws${i}`, (await login(g, 'ws', `${name}-ws${i}`)).c)
    for (let i = 0; i < 2; i++) clients.set(`${name}-tcp${i}`, (await login(g, 'tcp', `${name}-tcp${i}`)).c)
  }
  t.after(() => { for (const c of clients.values()) void c.close() })
  const uids = [...clients.keys()].sort()
  for (const c of clients.values()) {
    c.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    assert.deepEqual((await c.nextOf('S2C_UpdateWatchRoom')).body, { rooms: ['lobby'] })
  }

  const sessions = [...await sessionsOn(A.p.port, ['a-1', 'a-2']), ...await sessionsOn(B.p.port, ['b-1', 'b-2'])]
  t.after(() => { for (const s of sessions) s.close() })
  await until(async () => (await sessions[0].get('/stats')).onlineUsers === uids.length, 15000, 'every login to be listed')

  // Where each uid is, and every worker holds some.
  const where = new Map<string, string>()
  for (const uid of uids) where.set(uid, (await sessions[0].get(`/users/${uid}`)).connections[0].node)
  assert.deepEqual([...new Set(where.values())].sort(), NODES, `clients on every worker: ${JSON.stringify(Object.fromEntries(where))}`)
  const onNode = (node: string): string[] => uids.filter(u => where.get(u) === node)

  // Every question, asked of every worker, covers all four nodes.
  for (const s of sessions) {
    const stats = await s.get('/stats')
    assert.equal(stats.node, s.node)
    assert.equal(stats.mode, 'cluster')
    assert.equal(stats.nodes, 4, `${s.node}: ${JSON.stringify(stats)}`)
    assert.equal(stats.onlineUsers, uids.length)
    assert.equal(stats.connections, uids.length)
    assert.deepEqual(stats.transports, { ws: 8, tcp: 4 })
    assert.equal(stats.partial, undefined)
    const list = await s.get('/users?limit=100')
    assert.equal(list.total, uids.length)
    assert.deepEqual(list.items.map((u: { uid: string }) => u.uid).sort(), uids)
    assert.equal(list.partial, undefined)
    for (const node of NODES) {
      const uid = onNode(node)[0]
      const user = await s.get(`/users/${uid}`)
      assert.deepEqual(user.connections.map((c: { node: string }) => c.node), [node], `${s.node} asked where ${uid} is`)
    }
  }

  // Pushes to every uid, room pushes and broadcasts, each asked of every worker, reach every client once.
  for (const s of sessions) {
    assert.deepEqual(await s.post('/push', { uids, name: 'S2C_Message', body: message(`push from ${s.node}`) }), { delivered: uids.length, stored: uids.length })
    const room = await s.post('/rooms/lobby/push', { name: 'S2C_Message', body: { ...message(`room from ${s.node}`), room: 'lobby' } })
    assert.equal(room.delivered, uids.length, `${s.node}: ${JSON.stringify(room)}`)
    assert.equal(room.partial, undefined)
    const all = await s.post('/broadcast', { name: 'S2C_Message', body: message(`broadcast from ${s.node}`) })
    assert.equal(all.delivered, uids.length, `${s.node}: ${JSON.stringify(all)}`)
    assert.equal(all.partial, undefined)
    for (const [uid, c] of clients) {
      const got = [(await c.nextOf('S2C_Message')).body.content, (await c.nextOf('S2C_Message')).body.content, (await c.nextOf('S2C_Message')).body.content]
      assert.deepEqual(got, [`push from ${s.node}`, `room from ${s.node}`, `broadcast from ${s.node}`], uid)
    }
  }
  for (const c of clients.values()) assert.equal(c.pending, 0, 'nothing delivered twice')

  // uid to uid, from each worker to a client on every other worker.
  for (const from of NODES) {
    for (const to of NODES.filter(n => n !== from)) {
      const [sender, receiver] = [onNode(from)[0], onNode(to)[0]]
      clients.get(sender)!.send('C2S_Message', { to_uid: receiver, content: `${from} to ${to}` })
      const got = (await clients.get(receiver)!.nextOf('S2C_Message', 15000)).body
      assert.deepEqual([got.from_uid, got.content], [sender, `${from} to ${to}`])
    }
  }

  // History lives in the Redis Cluster: every worker reads the same stream of a uid on any node.
  for (const node of NODES) {
    const uid = onNode(node)[0]
    const pushes = sessions.map(s => `push from ${s.node}`)
    const answers = await Promise.all(sessions.map(async s => await s.get(`/users/${uid}/history?limit=100`)))
    for (const h of answers) {
      assert.deepEqual(h, answers[0])
      assert.deepEqual(h.items.map((i: { body: { content: string } }) => i.body.content).slice(0, 4), pushes)
    }
  }

  // A client of gateway a that asked for positions leaves; a message pushed by b-2 while it is
  // away is stored, and it gets it when it logs in again on gateway b.
  let roamer = await login(A.p, 'ws', 'roamer', '')
  const roamerNode = (await sessions[0].get('/users/roamer')).connections[0].node as string
  const first = await sessions[3].post('/push', { uids: ['roamer'], name: 'S2C_Message', body: message('while here') })
  assert.deepEqual(first, { delivered: 1, stored: 1 })
  const pos = (await roamer.c.nextOf('S2C_Message')).body.gate_pos as string
  await roamer.c.close()
  await until(async () => (await sessions[3].ask('GET', '/users/roamer')).status === 404, 15000, 'roamer to be offline')
  assert.deepEqual(await sessions[3].post('/push', { uids: ['roamer'], name: 'S2C_Message', body: message('while away') }), { delivered: 0, stored: 1 })
  roamer = await login(B.p, 'tcp', 'roamer', pos)
  t.after(() => roamer.c.close())
  assert.deepEqual(roamer.before.map(m => m.body.content), ['while away'])
  assert.equal(roamer.answer.body.recovered, true)
  t.diagnostic(`roamer: ${roamerNode} then ${(await sessions[0].get('/users/roamer')).connections[0].node as string}, ${sessions[3].node} pushed`)

  // A kick asked of a-1 closes one client on each of the four nodes (WebSocket: 4001; TCP: the close notice).
  const kicked = NODES.map(n => onNode(n)[0])
  assert.deepEqual(await sessions[0].post('/kick', { uids: kicked, reason: 'bye' }), { kicked: kicked.length })
  for (const uid of kicked) {
    const c = clients.get(uid)!
    if (c instanceof WsClient) assert.deepEqual(await c.closed, { code: 4001, reason: 'bye' })
    else assert.deepEqual((await c.nextOf('S2C_Close')).body, { code: 4001, reason: 'bye' })
    clients.delete(uid)
  }
  await until(async () => (await sessions[2].get('/stats')).onlineUsers === uids.length - kicked.length + 1, 15000, 'the kicked uids to be gone (roamer stays)')
  for (const s of sessions) assert.equal((await s.get('/stats')).connections, uids.length - kicked.length + 1)

  // SIGTERM to both top processes: every worker drains, and both exit 0.
  for (const s of sessions) s.close()
  A.g.proc.kill('SIGTERM')
  B.g.proc.kill('SIGTERM')
  assert.deepEqual(await Promise.all([A.g.exited, B.g.exited]), [0, 0])
})
