/**
 * Issue: one address locking everyone out. Replayed against the example app:
 * silent or trickling connections without login are closed by the login
 * timeout; one IP cannot take more than its cap nor connect faster than its
 * rate, while other IPs still get in; upgrades in progress count; requests
 * whose headers trickle in are dropped by the header deadline.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import { WebSocket } from 'ws'
import { CloseCode } from '../../src/close-codes.js'
import { WsClient } from '../clients.js'
import { assertEchoes, closeOf, deferred, mockGateClock, recordCloses, registerTestMessages, startCore, until } from '../helper.js'
import { startChat } from './chat.js'

/** A raw TCP connection to `port`, from `localAddress`; resolves once connected. */
async function rawSocket (port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress })
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('close', reject) })
  return socket
}

const closedSocket = async (socket: net.Socket): Promise<void> => {
  if (socket.destroyed) return
  await new Promise<void>(resolve => socket.once('close', () => resolve()))
}

describe('login timeout (GATE_LOGIN_TIMEOUT)', () => {
  test('silent, trickling and pinging connections without login are closed with 4003; a logged-in one stays', { timeout: 60_000 }, async (t) => {
    // On the gate's mocked clock: however slowly the clients connect, they all connect at its same instant.
    const advance = mockGateClock(t)
    const chat = await startChat(t, { GATE_LOGIN_TIMEOUT: '400', GATE_IDLE_TIMEOUT: '60000' })
    const closes = recordCloses(chat.app)
    const silentTcp = await chat.tcp()
    const silentWs = await chat.ws()
    const trickling = await chat.tcp()
    const pinging = await chat.ws()
    const beating = await chat.tcp()
    const { agent: member } = await chat.user('alice')
    const agents = [...chat.app.gate.local.all()].filter(a => a !== member)
    assert.equal(agents.length, 5)
    // One byte of an unfinished frame, WebSocket pings and heartbeats (allowed before login) do not extend it.
    trickling.socket.write(Buffer.from([0x00]))
    let elapsed = 0
    while (agents.every(a => a.isOpen) && elapsed < 1000) {
      trickling.socket.write(Buffer.from([0x10]))
      pinging.ws.ping()
      beating.send('C2S_UserHeartBeat', { ptime: 1 })
      await beating.nextOf('C2S_UserHeartBeat')
      advance(50)
      elapsed += 50
    }
    assert.ok(elapsed > 400, `closed after ${elapsed} ms on the gate's clock`)
    for (const agent of agents) assert.equal((await closeOf(closes, agent)).code, CloseCode.UNAUTHORIZED)
    assert.equal((await silentWs.closed).code, CloseCode.UNAUTHORIZED)
    assert.equal((await pinging.closed).code, CloseCode.UNAUTHORIZED)
    await silentTcp.closed
    assert.equal(member.isOpen, true)
    assert.ok(closes.every(c => c.reason === 'login timeout'))
  })

  test('0 disables it: a minute on the gate\'s clock closes nobody, where 1000 closes with 4003', { timeout: 30_000 }, async (t) => {
    const advance = mockGateClock(t)
    const off = await startChat(t, { GATE_LOGIN_TIMEOUT: '0', GATE_IDLE_TIMEOUT: '0' })
    const on = await startChat(t, { GATE_LOGIN_TIMEOUT: '1000', GATE_IDLE_TIMEOUT: '0' })
    const offCloses = recordCloses(off.app)
    const onCloses = recordCloses(on.app)
    const client = await off.tcp()
    const reference = await on.tcp()
    for (const c of [client, reference]) {
      c.send('C2S_UserHeartBeat', { ptime: 1 })
      await c.nextOf('C2S_UserHeartBeat')
    }
    const [agent] = off.app.gate.local.all()
    const [referenceAgent] = on.app.gate.local.all()
    advance(60_000)
    assert.equal(agent.isOpen, true)
    assert.equal((await closeOf(onCloses, referenceAgent)).code, CloseCode.UNAUTHORIZED)
    await reference.closed
    client.send('C2S_UserHeartBeat', { ptime: 2 })
    await client.nextOf('C2S_UserHeartBeat')
    assert.deepEqual(offCloses, [])
  })
})

describe('per-IP cap on open connections (GATE_MAX_CONN_PER_IP)', () => {
  test('one IP gets its cap across TCP and WebSocket; more are refused (503 before the upgrade, TCP closed); other IPs get in', async (t) => {
    const chat = await startChat(t, { GATE_MAX_CONN_PER_IP: '4' })
    const mine = [await chat.tcp(), await chat.ws(), await chat.tcp(), await chat.ws()]
    await until(() => chat.app.gate.connectionCount === 4)
    await assert.rejects(chat.ws(), { statusCode: 503 })
    const refused = await chat.tcp()
    await refused.closed
    assert.equal(chat.app.gate.connectionCount, 4)
    assert.equal(chat.app.gate.refusals.get('ip-limit'), 2)
    const metrics = await (await fetch(`http://127.0.0.1:${chat.port}/gate/metrics`, { headers: { authorization: 'Bearer admin' } })).text()
    assert.match(metrics, /^gate_refusals_total\{reason="ip-limit"\} 2$/m)
    // Another address is not affected.
    const other = await chat.ws('127.0.0.2')
    other.send('C2S_UserHeartBeat', { ptime: 1 })
    await other.nextOf('C2S_UserHeartBeat')
    const otherTcp = await chat.tcp('127.0.0.2')
    otherTcp.send('C2S_UserHeartBeat', { ptime: 1 })
    await otherTcp.nextOf('C2S_UserHeartBeat')
    // A place frees when one closes.
    await mine[0].close()
    await until(() => chat.app.gate.admission.usedBy('127.0.0.1') === 3)
    const again = await chat.ws()
    again.send('C2S_UserHeartBeat', { ptime: 1 })
    await again.nextOf('C2S_UserHeartBeat')
  })
})

describe('per-IP connect rate (GATE_CONN_RATE_PER_IP)', () => {
  test('past its burst, one IP is refused (429 with Retry-After, TCP closed) while another IP connects', async (t) => {
    const rate = 5
    const chat = await startChat(t, { GATE_CONN_RATE_PER_IP: String(rate) })
    const start = Date.now()
    let admitted = 0
    let refused = 0
    for (let i = 0; i < 30; i++) {
      try {
        const c = i % 2 === 0 ? await chat.ws() : await chat.tcp()
        if ('socket' in c) {
          // A refused TCP connection is closed at once; an admitted one answers.
          c.send('C2S_UserHeartBeat', { ptime: 1 })
          const answered = await Promise.race([c.nextOf('C2S_UserHeartBeat').then(() => true), c.closed.then(() => false)])
          if (answered) admitted++; else refused++
        } else {
          admitted++
        }
      } catch (err) {
        assert.equal((err as { statusCode?: number }).statusCode, 429)
        refused++
      }
    }
    const elapsed = (Date.now() - start) / 1000
    // An upper bound only, so a slow machine cannot fail it: burst + rate x elapsed (+1 for rounding).
    assert.ok(admitted <= 2 * rate + rate * elapsed + 1, `admitted ${admitted} in ${elapsed.toFixed(2)} s`)
    if (elapsed < 2) assert.ok(refused > 0)
    assert.equal(chat.app.gate.refusals.get('ip-rate') ?? 0, refused)
    const other = await chat.tcp('127.0.0.3')
    other.send('C2S_UserHeartBeat', { ptime: 1 })
    await other.nextOf('C2S_UserHeartBeat')
  })

  test('the 429 answer carries Retry-After and a stable code', async (t) => {
    const chat = await startChat(t, { GATE_CONN_RATE_PER_IP: '1' })
    for (let i = 0; i < 2; i++) await chat.tcp()
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${chat.port}/ws`, {
        headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
      })
      req.on('response', resolve)
      req.on('upgrade', () => reject(new Error('upgraded')))
      req.on('error', reject)
    })
    assert.equal(res.statusCode, 429)
    assert.equal(res.headers['retry-after'], '1')
    let body = ''
    for await (const chunk of res) body += String(chunk)
    assert.equal(JSON.parse(body).code, 'FST_GATE_IP_RATE')
  })
})

describe('upgrades in progress and unfinished HTTP requests', () => {
  test('an upgrade held by an app hook counts toward maxConnNum until it completes', async (t) => {
    const hold = deferred()
    const reached = deferred()
    const s = await startCore(t, { maxConnNum: 2 }, (app) => {
      registerTestMessages(app)
      app.addHook('preHandler', async (request) => {
        if (request.headers['x-hold'] !== undefined) { reached.resolve(); await hold.promise }
      })
    })
    const held = WsClient.connect(s.wsUrl, undefined, { headers: { 'x-hold': '1' } })
    await reached.promise
    await s.tcp()
    await until(() => s.app.gate.connectionCount === 1)
    // One connection and one upgrade in progress: the gate is full.
    await assert.rejects(s.ws(), { statusCode: 503 })
    const refused = await s.tcp()
    await refused.closed
    hold.resolve()
    const client = await held
    client.send('Echo', { text: 'through' })
    assert.equal((await client.next()).body.text, 'through')
  })

  test('requests whose headers trickle in are dropped after headersTimeout and count toward the per-IP cap meanwhile', async (t) => {
    const s = await startCore(t, { headersTimeout: 300, maxConnPerIp: 20 }, registerTestMessages)
    const { port } = s.app.server.address() as net.AddressInfo
    const trickling: net.Socket[] = []
    for (let i = 0; i < 20; i++) {
      const socket = await rawSocket(port)
      socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n')
      trickling.push(socket)
    }
    const drip = setInterval(() => { for (const s of trickling) if (!s.destroyed) s.write('X') }, 50)
    t.after(() => clearInterval(drip))
    await until(() => s.app.gate.admission.unfinishedHttp === 20)
    // The same IP is at its cap: a 21st connection is dropped at once...
    const extra = await rawSocket(port)
    await closedSocket(extra)
    // ...while another IP upgrades and talks.
    const other = await WsClient.connect(s.wsUrl, undefined, { localAddress: '127.0.0.4' })
    other.send('Echo', { text: 'hi' })
    assert.equal((await other.next()).body.text, 'hi')
    for (const socket of trickling) await closedSocket(socket)
    assert.equal(s.app.gate.admission.unfinishedHttp, 0)
    assert.equal(s.app.gate.admission.usedBy('127.0.0.1'), 0)
  })

  test('an upgrade that ws refuses after the hooks (malformed Sec-WebSocket-Protocol, bad version) gives its place back', async (t) => {
    const s = await startCore(t, { mqtt: {}, maxConnPerIp: 2 }, registerTestMessages)
    const { port } = s.app.server.address() as net.AddressInfo
    const upgrade = async (path: string, headers: string): Promise<string> => {
      const socket = await rawSocket(port)
      let answer = ''
      socket.on('data', chunk => { answer += String(chunk) })
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`)
      await closedSocket(socket)
      return answer.split('\r\n')[0]!
    }
    for (let i = 0; i < 3; i++) {
      // Both pass the gate's hooks (the first offers mqtt) and are answered 400 by ws itself.
      assert.equal(await upgrade('/mqtt', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt,,\r\n'), 'HTTP/1.1 400 Bad Request')
      assert.equal(await upgrade('/ws', 'Sec-WebSocket-Version: 12\r\n'), 'HTTP/1.1 400 Bad Request')
    }
    await until(() => s.app.gate.admission.usedBy('127.0.0.1') === 0, 5000, 'the refused upgrades\' places given back')
    await assertEchoes(await s.ws())
    await assertEchoes(await s.ws())
  })

  test('an upgrade whose socket closed while an app hook ran gives its place back', async (t) => {
    const closed = deferred()
    const s = await startCore(t, { maxConnPerIp: 1 }, (app) => {
      registerTestMessages(app)
      app.addHook('onRequest', async (request) => {
        if (request.headers['x-drop'] === undefined) return
        const socket = request.raw.socket
        socket.destroy()
        await once(socket, 'close')
        closed.resolve()
      })
    })
    const dropped = new WebSocket(s.wsUrl, { headers: { 'x-drop': '1' } })
    dropped.on('error', () => {})
    await closed.promise
    // The gate's admission hook runs right after the app's, before the next upgrade arrives: at the cap of 1, it
    // gets in only if that place was given back.
    await assertEchoes(await s.ws())
  })

  test('a full gate still answers plain HTTP (the admin API stays reachable)', async (t) => {
    const s = await startCore(t, { maxConnNum: 1 }, (app) => {
      registerTestMessages(app)
      app.get('/health', async () => ({ ok: true }))
    })
    await s.tcp()
    await until(() => s.app.gate.connectionCount === 1)
    const res = await fetch(`${s.httpUrl}/health`)
    assert.equal(res.status, 200)
    await assert.rejects(s.ws(), { statusCode: 503 })
  })
})
