/**
 * Issue 21, attacks 2 and 7: HTTP connections escaped the per-IP cap once their
 * first request's headers were in (one address held 19,980 of them and the
 * process ran out of descriptors), idle keep-alive connections were held 71 s,
 * and plain requests were neither rate-limited nor logged once (8 MB/s of log
 * lines). Real sockets against the example app; the counts are the gate's own.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { captureLogs, registerTestMessages, startCore, until } from '../helper.js'
import { SECRET, startChat } from './chat.js'

async function httpSocket (port: number, from = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from })
  socket.on('error', () => {})
  socket.resume() // reading, so that a close from the server is seen
  await once(socket, 'connect')
  return socket
}

test('one address cannot hold more HTTP connections than its cap, whatever phase they are in; a bystander still connects', async (t) => {
  const chat = await startChat(t, { GATE_MAX_CONN_PER_IP: '20', GATE_CONN_RATE_PER_IP: '0' })
  const gate = chat.app.gate
  const sockets: net.Socket[] = []
  let closed = 0
  for (let i = 0; i < 60; i++) {
    const socket = await httpSocket(chat.port, '127.0.0.2')
    socket.once('close', () => { closed++ })
    // A third send only part of their headers; a third a request whose body never comes; a third one request, then keep the connection.
    if (i % 3 === 0) socket.write('GET /gate/protocol HTTP/1.1\r\nHost: x\r\n')
    else if (i % 3 === 1) socket.write('POST /gate/kick HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
    else socket.write('GET /gate/protocol HTTP/1.1\r\nHost: x\r\n\r\n')
    sockets.push(socket)
  }
  await until(() => closed === 40, 5000, 'the connections past the cap to be dropped')
  assert.equal(gate.admission.unfinishedHttp, 20, 'the gate holds 20 HTTP connections of 127.0.0.2')
  t.diagnostic(`60 HTTP connections from 127.0.0.2 (cap 20): ${60 - closed} held, ${closed} dropped`)

  // Another address is not affected: it upgrades, logs in, and reads the admin API.
  const { client } = await chat.user('bystander', 'ws', '127.0.0.3')
  client.send('C2S_UserHeartBeat', { ptime: 1 })
  await client.nextOf('C2S_UserHeartBeat')
  const res = await fetch(`http://127.0.0.1:${chat.port}/gate/protocol`)
  assert.equal(res.status, 200)
  for (const s of sockets) s.destroy()
})

test('a request body that does not arrive, and a keep-alive connection left idle, are dropped at their deadlines', async (t) => {
  const s = await startCore(t, { requestBodyTimeout: 300, keepAliveTimeout: 300 }, (app) => {
    registerTestMessages(app)
    app.post('/upload', async () => ({ ok: true }))
    app.get('/health', async () => ({ ok: true }))
  })
  const port = Number(new URL(s.httpUrl).port)
  const upload = await httpSocket(port)
  upload.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":')
  const idle = await httpSocket(port)
  let answered = ''
  idle.on('data', (d: Buffer) => { answered += d.toString('latin1') })
  idle.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => s.app.gate.admission.unfinishedHttp === 2)
  await Promise.all([once(upload, 'close'), once(idle, 'close')])
  assert.match(answered, /^HTTP\/1\.1 200/, 'the idle one was answered first')
  assert.equal(s.app.gate.admission.unfinishedHttp, 0)
})

test('the example app: past GATE_HTTP_RATE_PER_IP an address gets 429 and the connection closes, unknown paths included; no log line per request', async (t) => {
  const logs = captureLogs('info')
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ADMIN_TOKEN: 'admin', GATE_HTTP_RATE_PER_IP: '10' })
  const app = await buildChatApp(config, { logger: logs.logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as net.AddressInfo).port
  const before = logs.lines.length
  const statuses: number[] = []
  // Pipelined on one keep-alive connection: 30 unknown paths, then 30 unauthenticated admin reads.
  const socket = await httpSocket(port, '127.0.0.2')
  let got = ''
  socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
  const closed = new Promise(resolve => socket.once('close', resolve))
  socket.write('GET /nonexistent HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(30) + 'GET /gate/stats HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(30))
  await closed
  for (const m of got.matchAll(/HTTP\/1\.1 (\d+)/g)) statuses.push(Number(m[1]))
  t.diagnostic(`60 pipelined requests at 10/s per address: answered ${JSON.stringify(statuses)}, then the gate closed the connection; ${logs.lines.length - before} log lines`)
  // The first 429 is the last answer: the connection closes after it (its headers say so). At most
  // the first 10 are answered before it (404, or 401: the rate is checked before the admin token);
  // the limiter's memory store reads its counter after the whole pipeline counted, so usually none is.
  assert.equal(statuses.at(-1), 429)
  assert.equal(statuses.filter(s => s === 429).length, 1)
  assert.ok(statuses.length <= 11)
  assert.match(got, /connection: close/i)
  // A bystander on another address is not limited by it.
  const res = await fetch(`http://127.0.0.1:${port}/gate/protocol`)
  assert.equal(res.status, 200)
  // The capped admin error lines (10 per kind and window) at most, never one per request.
  assert.ok(logs.lines.length - before <= 10, `log lines: ${logs.lines.length - before}`)
})
