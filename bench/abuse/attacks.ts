/**
 * The nine attacks of issue 21, each against a fresh example gateway, from
 * 127.0.0.1 (the attacker) while the bystander on 127.0.0.2 sends heartbeats.
 * Each is bounded (at most about 20 s of attack) and returns its figures as
 * lines of text.
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import mqttPacket, { type Packet } from 'mqtt-packet'
import type { WebSocket } from 'ws'
import { ATTACKER, bystander, frame, mib, ms, show, sign, tcpOpen, tcpUser, wsLogin, wsOpen, wsUser } from './clients.js'
import type { Gateway } from './gateway.js'

export interface Attack {
  title: string
  redis?: boolean
  run: (g: Gateway) => Promise<string[]>
}

const socketOf = (ws: WebSocket): net.Socket => (ws as unknown as { _socket: net.Socket })._socket

/** Opens `n` connections from one address, waiting out its connection rate (100/s, burst 200) when refused. */
async function many<T> (n: number, open: (i: number) => Promise<T>, deadline: number): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    try {
      out.push(await open(i))
    } catch {
      await sleep(50)
      i--
    }
  }
  return out
}

/** Writes `chunk` as fast as the socket takes it until `until`. */
function pump (s: net.Socket, chunk: Buffer, until: number, sent: { n: number }): void {
  const go = (): void => {
    while (Date.now() < until && !s.destroyed) {
      sent.n++
      if (!s.write(chunk)) { s.once('drain', go); return }
    }
  }
  go()
}

/** CPU the gateway used, in % of one core, since the last call. */
function cpuMeter (g: Gateway): () => number {
  const read = (): [number, number] => {
    const f = readFileSync(`/proc/${g.proc.pid!}/stat`, 'utf8').split(') ')[1].split(' ')
    return [Number(f[11]) + Number(f[12]), performance.now()]
  }
  let [ticks, at] = read()
  return () => {
    const [t, now] = read()
    const pct = (t - ticks) / 100 / ((now - at) / 1000) * 100
    ticks = t
    at = now
    return pct
  }
}

async function mqttConnect (g: Gateway, uid: string, from = ATTACKER): Promise<{ s: net.Socket, packets: Packet[] }> {
  const s = await tcpOpen(g.mqttPort, from)
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const packets: Packet[] = []
  parser.on('packet', (p: Packet) => { packets.push(p) })
  s.on('data', (d: Buffer) => parser.parse(d))
  s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: uid, keepalive: 0, username: uid, password: Buffer.from(sign(uid)) }))
  for (let i = 0; i < 100 && packets.length === 0; i++) await sleep(20)
  const ack = packets.shift()
  if (ack?.cmd !== 'connack' || ack.returnCode !== 0) throw new Error(`MQTT login of ${uid}: ${JSON.stringify(ack)}`)
  return { s, packets }
}

const delta = (a: Map<string, number>, b: Map<string, number>, k: string): number => (b.get(k) ?? 0) - (a.get(k) ?? 0)

export const attacks: Attack[] = [
  {
    title: '1. stalled room members fill the process backlog; a reader that pauses 6 s',
    run: async (g) => {
      const deadline = Date.now() + 20000
      const by = await bystander(g)
      const before = await g.metrics()
      const stalled = await many(300, async i => {
        const ws = await wsUser(g, `stall${i}`, ATTACKER)
        ws.send(JSON.stringify({ C2S_UpdateWatchRoom: { rooms: ['big'] } }))
        return ws
      }, deadline)
      await sleep(300)
      for (const ws of stalled) socketOf(ws).pause()
      const reader = await wsUser(g, 'reader', '127.0.0.3')
      reader.send(JSON.stringify({ C2S_UpdateWatchRoom: { rooms: ['big'] } }))
      await sleep(200)
      const r = { got: 0, closed: undefined as number | undefined }
      reader.on('message', (d: Buffer) => { if (String(d).includes('S2C_Message')) r.got++ })
      reader.on('close', (code: number) => { r.closed = code })
      socketOf(reader).pause()
      const senders = await many(10, async i => await tcpUser(g, `sender${i}`, ATTACKER), deadline)
      const content = 'é'.repeat(468) // the example's CONTENT_MAX_LENGTH: ~1 KB in UTF-8
      const total = senders.length * 200
      for (const s of senders) s.write(Buffer.concat(Array.from({ length: 200 }, () => frame('C2S_Message', { room: 'big', content }))))
      let peakBacklog = 0
      let peakRss = 0
      let unanswered = 0
      const resumeAt = Date.now() + 6000
      let resumed = false
      while (Date.now() < Math.min(deadline, resumeAt + 8000) && r.got < total && r.closed === undefined) {
        if (!resumed && Date.now() >= resumeAt) { socketOf(reader).resume(); resumed = true }
        const m = await g.metrics().catch(() => { unanswered++; return new Map<string, number>() })
        peakBacklog = Math.max(peakBacklog, m.get('gate_outbound_backlog_bytes') ?? 0)
        peakRss = Math.max(peakRss, g.rss())
        await sleep(200)
      }
      const after = await g.metrics()
      const trips = await by.stop()
      const stalledOpen = stalled.filter(ws => ws.readyState === 1).length
      for (const ws of [...stalled, reader]) ws.terminate()
      for (const s of senders) s.destroy()
      return [
        `${stalled.length} stalled members (127.0.0.1), ${total} room pushes of ~1.1 KB; the reader (paused 6 s) got ${r.got} of ${total}, ${r.closed === undefined ? 'still open' : `closed ${r.closed}`}`,
        `closed 4004: ${delta(before, after, 'gate_closes_total{code="4004"}')} (stalled still open: ${stalledOpen}); backlog held peak ${mib(peakBacklog)}; RSS peak ${mib(peakRss)}${unanswered > 0 ? `; the metrics went unanswered (5 s) ${unanswered} times` : ''}`,
        show(trips)
      ]
    }
  },
  {
    title: '2. HTTP connections from one address: trickled bodies and idle keep-alive',
    run: async (g) => {
      const by = await bystander(g)
      const sockets: net.Socket[] = []
      for (let i = 0; i < 3000; i++) {
        const s = net.connect({ port: g.port, host: '127.0.0.1', localAddress: ATTACKER })
        s.on('error', () => {})
        s.on('data', () => {})
        s.write(i % 2 === 0
          ? 'POST /gate/kick HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'
          : 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        sockets.push(s)
        if (i % 100 === 99) await sleep(20)
      }
      await sleep(2000)
      const open = (): number => sockets.filter(s => !s.destroyed && s.readyState === 'open').length
      const at2 = open()
      const pool2 = (await g.metrics()).get('gate_unfinished_http_requests')
      const t0 = performance.now()
      const ws = await wsUser(g, 'other', '127.0.0.3').then(() => 'WebSocket logs in', (e: Error) => `WebSocket fails: ${e.message}`)
      const tcp = await tcpUser(g, 'other-tcp', '127.0.0.3').then(s => { s.destroy(); return 'TCP logs in' }, (e: Error) => `TCP fails: ${e.message}`)
      const mq = await mqttConnect(g, 'other-mqtt', '127.0.0.3').then(m => { m.s.destroy(); return 'MQTT connects' }, (e: Error) => `MQTT fails: ${e.message}`)
      const adminStart = performance.now()
      const stats = await g.admin('/stats').then(r => `admin API ${r.status} in ${ms(performance.now() - adminStart)}`, (e: Error) => `admin API: ${e.message}`)
      const took = performance.now() - t0
      for (let t = 0; t < 10; t++) {
        await sleep(1000)
        for (const s of sockets) if (!s.destroyed && t % 2 === 0) s.write(' ')
      }
      const at12 = open()
      const pool12 = (await g.metrics()).get('gate_unfinished_http_requests')
      const trips = await by.stop()
      for (const s of sockets) s.destroy()
      return [
        `3,000 connections from 127.0.0.1 (half POST /gate/kick with a body trickled a byte per 2 s, half keep-alive after GET /): open as the client sees them ${at2} after 2 s, ${at12} after 12 s; held by the gate (its HTTP pool, all addresses) ${pool2 ?? '?'} after 2 s, ${pool12 ?? '?'} after 12 s`,
        `from 127.0.0.3 meanwhile: ${ws}, ${tcp}, ${mq}, ${stats} (all in ${ms(took)}); RSS ${mib(g.rss())}`,
        show(trips)
      ]
    }
  },
  {
    title: '3. history flood to made-up uids (private Redis)',
    redis: true,
    run: async (g) => {
      const redis = new Redis(g.redis!.url)
      const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
      const usedBefore = await used()
      const rssBefore = g.rss()
      const alice = await wsOpen(g, '127.0.0.3')
      const pos = (await wsLogin(alice, 'alice', { resume_pos: '' })).gate_pos as string
      alice.terminate()
      const bob = await tcpUser(g, 'bob', '127.0.0.3')
      for (let i = 0; i < 5; i++) bob.write(frame('C2S_Message', { to_uid: 'alice', content: `unread ${i}` }))
      await sleep(500)
      const by = await bystander(g)
      const deadline = Date.now() + 15000
      const flooders = await many(100, async i => await tcpUser(g, `m${i}`, ATTACKER), deadline)
      const sent = { n: 0 }
      let k = 0
      const pad = 'm'.repeat(460) // within the example's CONTENT_MAX_LENGTH (468)
      const chunk = (): Buffer => Buffer.concat(Array.from({ length: 50 }, () => frame('C2S_Message', { to_uid: `ghost-${k++}`, content: pad })))
      const end = Date.now() + 12000
      for (const s of flooders) pump(s, chunk(), end, sent)
      let peakUsed = 0
      let peakRss = 0
      while (Date.now() < end) {
        peakUsed = Math.max(peakUsed, await used())
        peakRss = Math.max(peakRss, g.rss())
        await sleep(500)
      }
      for (const s of flooders) s.destroy()
      const trips = await by.stop()
      const streams = (await redis.keys('*:hist')).length
      const back = await wsOpen(g, '127.0.0.3')
      let replayed = 0
      back.on('message', (d: Buffer) => { if (String(d).includes('unread')) replayed++ })
      const answer = await wsLogin(back, 'alice', { resume_pos: pos })
      back.terminate()
      bob.destroy()
      redis.disconnect()
      return [
        `${flooders.length} connections from 127.0.0.1 writing to made-up uids for 12 s (~500 B each): Redis used_memory ${mib(usedBefore)} -> peak ${mib(peakUsed)}, ${streams} streams; gateway RSS ${mib(rssBefore)} -> peak ${mib(peakRss)}`,
        `alice resumed: ${replayed} of her 5 unread replayed, recovered: ${String(answer.recovered)}`,
        show(trips)
      ]
    }
  },
  {
    title: '4. MQTT SUBSCRIBE to many rooms',
    run: async (g) => {
      const by = await bystander(g)
      const rssBefore = g.rss()
      const { s, packets } = await mqttConnect(g, 'mallory')
      let id = 0
      let r = 0
      const sent = { n: 0 }
      const end = Date.now() + 10000
      const batch = (): Buffer => Buffer.concat(Array.from({ length: 20 }, () => mqttPacket.generate({ cmd: 'subscribe', messageId: (id++ % 65535) + 1, subscriptions: Array.from({ length: 100 }, () => ({ topic: `room/r${r++}`, qos: 0 as const })) })))
      const go = (): void => {
        while (Date.now() < end && !s.destroyed) {
          sent.n += 20
          if (!s.write(batch())) { s.once('drain', go); return }
        }
      }
      go()
      let peakRss = 0
      while (Date.now() < end) { peakRss = Math.max(peakRss, g.rss()); await sleep(250) }
      await sleep(500)
      let granted = 0
      let refused = 0
      for (const p of packets) if (p.cmd === 'suback') for (const c of p.granted as number[]) c === 0x80 ? refused++ : granted++
      const trips = await by.stop()
      s.destroy()
      return [
        `one MQTT connection, ${sent.n} SUBSCRIBEs of 100 room filters in 10 s: ${granted} granted, ${refused} refused (0x80); RSS ${mib(rssBefore)} -> peak ${mib(peakRss)}`,
        show(trips)
      ]
    }
  },
  {
    title: '5. MQTT PINGREQ and UNSUBSCRIBE floods',
    run: async (g) => {
      const by = await bystander(g)
      const { s, packets } = await mqttConnect(g, 'mallory')
      const pings = Buffer.concat(Array.from({ length: 1000 }, () => mqttPacket.generate({ cmd: 'pingreq' })))
      const sent = { n: 0 }
      let end = Date.now() + 8000
      pump(s, pings, end, sent)
      await sleep(8000)
      const pingresp = packets.filter(p => p.cmd === 'pingresp').length
      const sentPings = sent.n * 1000
      s.destroy()
      const u = await mqttConnect(g, 'mallory2')
      const unsubs = Buffer.concat(Array.from({ length: 1000 }, (_, i) => mqttPacket.generate({ cmd: 'unsubscribe', messageId: i + 1, unsubscriptions: ['room/x'] })))
      const sentU = { n: 0 }
      end = Date.now() + 5000
      pump(u.s, unsubs, end, sentU)
      await sleep(5000)
      const unsuback = u.packets.filter(p => p.cmd === 'unsuback').length
      u.s.destroy()
      const trips = await by.stop()
      return [
        `PINGREQ: ${sentPings} written in 8 s, ${pingresp} answered (${Math.round(pingresp / 8)}/s)`,
        `UNSUBSCRIBE: ${sentU.n * 1000} written in 5 s, ${unsuback} answered (${Math.round(unsuback / 5)}/s)`,
        show(trips)
      ]
    }
  },
  {
    title: '6. 500 connections from one address, each within its 100 msg/s; then they go away',
    run: async (g) => {
      const by = await bystander(g)
      const deadline = Date.now() + 12000
      const conns = await many(500, async i => await tcpUser(g, `c${i}`, ATTACKER), deadline)
      // Answers carry a ptime; the gate's probes of throttled connections (C2S_UserHeartBeat {}) do not.
      let answers = 0
      let probes = 0
      for (const s of conns) {
        let buf = Buffer.alloc(0)
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d])
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const len = buf.readUInt16BE(0)
            if (buf.subarray(2, 2 + len).includes('ptime')) answers++
            else probes++
            buf = buf.subarray(2 + len)
          }
        })
      }
      const ten = Buffer.concat(Array.from({ length: 10 }, () => frame('C2S_UserHeartBeat', { ptime: 1 })))
      const cpu = cpuMeter(g)
      const start = performance.now()
      const timer = setInterval(() => { for (const s of conns) s.write(ten) }, 100)
      await sleep(2000)
      const hs = performance.now()
      const handshake = await wsOpen(g, '127.0.0.3', 10000).then(ws => { ws.terminate(); return `a WebSocket handshake from 127.0.0.3 took ${ms(performance.now() - hs)}` }, (e: Error) => `a WebSocket handshake from 127.0.0.3 failed: ${e.message}`)
      await sleep(6000)
      clearInterval(timer)
      const secs = (performance.now() - start) / 1000
      const answered = answers
      const probed = probes
      const load = cpu()
      const trips = await by.stop()
      // Each writes a second's worth more in one go, then its process "exits".
      const before = await g.metrics()
      const burst = Buffer.concat(Array.from({ length: 2000 }, () => frame('C2S_UserHeartBeat', { ptime: 1 })))
      for (const s of conns) s.write(burst)
      await sleep(500)
      const gone = performance.now()
      for (const s of conns) s.destroy()
      let left = conns.length
      while (performance.now() - gone < 15000) {
        left = (await g.metrics()).get('gate_connections') ?? 0
        if (left <= 0) break
        await sleep(100)
      }
      const after = await g.metrics()
      return [
        `${conns.length} connections from 127.0.0.1 at 100 msg/s each for ${secs.toFixed(1)} s: ${answered} answers (${Math.round(answered / secs)}/s; the address's budget: 1000/s, burst 2000); throttled by address ${before.get('gate_address_throttled_total') ?? 0} times; ${probed} probes sent to them (${Math.round(probed / secs)}/s); gateway CPU ${load.toFixed(0)} %`,
        `${handshake}`,
        show(trips),
        `then 2,000 pipelined each and closed: all gone from the gate in ${ms(performance.now() - gone)} (${left} left); of the ${conns.length * 2000} messages pipelined, ${delta(before, after, 'gate_received_messages_total')} were read`
      ]
    }
  },
  {
    title: '7. plain HTTP flood: pipelined GET /nonexistent on one keep-alive connection',
    run: async (g) => {
      const by = await bystander(g)
      g.resetLog()
      const out: string[] = []
      for (const [path, secs] of [['/nonexistent', 8], ['/gate/stats', 5]] as const) {
        const s = net.connect({ port: g.port, host: '127.0.0.1', localAddress: ATTACKER })
        s.on('error', () => {})
        await new Promise(resolve => s.once('connect', resolve))
        const statuses = new Map<string, number>()
        let tail = ''
        s.on('data', (d: Buffer) => {
          const text = tail + d.toString('latin1')
          const re = /HTTP\/1\.1 (\d{3})/g
          let m: RegExpExecArray | null
          let last = 0
          while ((m = re.exec(text)) !== null) { statuses.set(m[1], (statuses.get(m[1]) ?? 0) + 1); last = re.lastIndex }
          tail = text.slice(Math.max(last, text.length - 16))
        })
        const closedAt = { at: 0 }
        s.on('close', () => { closedAt.at = performance.now() })
        const req = Buffer.from(Array.from({ length: 100 }, () => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''))
        const sent = { n: 0 }
        const start = performance.now()
        pump(s, req, Date.now() + secs * 1000, sent)
        await sleep(secs * 1000)
        s.destroy()
        const answered = [...statuses].map(([k, v]) => `${v} × ${k}`).join(', ')
        out.push(`${path}: ${sent.n * 100} requests written in ${secs} s, answered ${answered || 'none'}${closedAt.at > 0 ? `; the gate closed the connection after ${ms(closedAt.at - start)}` : ''}`)
      }
      const trips = await by.stop()
      out.push(`log: ${g.log.lines} lines, ${g.log.bytes} B in all`, show(trips))
      return out
    }
  },
  {
    title: '8. Redis down under a push flood (private Redis)',
    redis: true,
    run: async (g) => {
      const by = await bystander(g)
      const deadline = Date.now() + 10000
      const flooders = await many(100, async i => await tcpUser(g, `p${i}`, ATTACKER), deadline)
      const end = Date.now() + 14000
      const sent = { n: 0 }
      for (const [i, s] of flooders.entries()) pump(s, Buffer.concat(Array.from({ length: 20 }, () => frame('C2S_Message', { to_uid: `p${(i + 1) % 100}`, content: 'x' }))), end, sent)
      await sleep(2000)
      g.resetLog()
      await g.redis!.stop()
      await sleep(6000)
      const down = { lines: g.log.lines, bytes: g.log.bytes }
      await g.redis!.restart()
      const back = performance.now()
      let rejoined = NaN
      while (performance.now() - back < 15000) {
        const r = await g.admin('/stats').catch(() => undefined)
        if (r?.status === 200 && r.body.partial !== true) { rejoined = performance.now() - back; break }
        await sleep(100)
      }
      while (Date.now() < end) await sleep(100)
      for (const s of flooders) s.destroy()
      const trips = await by.stop()
      return [
        `${flooders.length} connections from 127.0.0.1 pushing to uids with history; Redis down 6 s: ${down.lines} log lines (${down.bytes} B) while down`,
        `after Redis came back (empty): /gate/stats complete again after ${ms(rejoined)}`,
        show(trips)
      ]
    }
  },
  {
    title: '9. uids that collide in Redis keys (lone surrogates; private Redis)',
    redis: true,
    run: async (g) => {
      const out: string[] = []
      for (const uid of ['\ud800lone', '\udffflone', '\ufffdlone']) {
        const ws = await wsOpen(g, ATTACKER)
        const closed = new Promise<number>(resolve => ws.once('close', (code: number) => resolve(code)))
        const a = await wsLogin(ws, uid)
        const code = await Promise.race([closed, sleep(1000).then(() => undefined)])
        ws.terminate()
        out.push(`sub ${JSON.stringify(uid)}: ret ${String(a.ret)}${code === undefined ? ', kept open' : `, closed ${code}`}`)
      }
      return out
    }
  }
]
