/**
 * Issue 21: "a client that disconnects stops costing anything". A client
 * wrote far more than its rate allows and went away (its socket closed, as
 * when its process exits); what it wrote waits in the kernel's buffers ahead
 * of its FIN, and the gate used to run all of it at its rate (112,000
 * messages, still served 600 s after the client exited). The messages here
 * get no answer (a room push to an empty room), so nothing the gate writes
 * would reveal that the client is gone but the gate's probe. The assertions
 * are counts: messages handled after the close.
 */
import { test } from 'node:test'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import gatePlugin from '../../plugins/gate.js'
import { setTimeout as sleep } from 'node:timers/promises'
import assert from 'node:assert/strict'
import type net from 'node:net'
import mqttPacket from 'mqtt-packet'
import type { Agent } from '../../src/agent.js'
import { Wire } from '../clients.js'
import { until } from '../helper.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'
import { burst, sign, startChat, type Chat } from './chat.js'

const RATE = 50
const FLOOD = 20000
const body = { room: 'nobody-here', content: 'x' }

/** Counts the example's C2S_Message handler runs (the gate's observer hook). */
function countHandled (chat: Chat): () => number {
  let n = 0
  const gate = chat.app.gate
  const prev = gate.runtime.observer
  gate.runtime.observer = {
    handled (name, seconds, failed) {
      if (name === 'C2S_Message') n++
      prev?.handled?.(name, seconds, failed)
    }
  }
  return () => n
}

interface Flooder {
  agent: Agent
  socket: net.Socket
  /** Writes FLOOD messages as fast as the socket takes them. */
  flood: () => void
}

async function leafFlooder (chat: Chat, transport: 'tcp' | 'ws'): Promise<Flooder> {
  const { client, agent } = await chat.user('mallory', transport)
  if (transport === 'tcp') {
    const tcp = client as Awaited<ReturnType<Chat['tcp']>>
    return { agent, socket: tcp.socket, flood: () => { tcp.sendRaw(burst(FLOOD, () => body)) } }
  }
  const ws = client as Awaited<ReturnType<Chat['ws']>>
  const payload = new Wire().encode('C2S_Message', body)
  return {
    agent,
    socket: (ws.ws as unknown as { _socket: net.Socket })._socket,
    flood: () => { for (let i = 0; i < FLOOD; i++) ws.sendRaw(payload) }
  }
}

async function mqttFlooder (chat: Chat): Promise<Flooder> {
  const raw = await RawMqtt.connect(chat.app.gateAddress('mqtt')!.port)
  assert.equal(await raw.handshake({ clientId: 'mallory', username: 'mallory', password: Buffer.from(sign('mallory')) }), 0)
  const [agent] = chat.app.gate.agentsOf('mallory') as ReadonlySet<Agent>
  const one = mqttPacket.generate({ cmd: 'publish', topic: 'C2S_Message', payload: JSON.stringify(body), qos: 0, retain: false, dup: false })
  return { agent: agent!, socket: raw.socket, flood: () => { raw.send(Buffer.concat(Array.from({ length: FLOOD }, () => one))) } }
}

for (const kind of ['leaf over TCP', 'leaf over WebSocket', 'MQTT over TCP'] as const) {
  test(`${kind}: a client that floods and goes away stops costing: what it left in the kernel's buffers is not run`, async (t) => {
    const chat = await startChat(t, { GATE_MSG_RATE: String(RATE) })
    const handled = countHandled(chat)
    const f = kind === 'MQTT over TCP' ? await mqttFlooder(chat) : await leafFlooder(chat, kind === 'leaf over TCP' ? 'tcp' : 'ws')
    f.flood()
    await until(() => chat.app.gate.counters.throttled > 0 && handled() >= 2 * RATE, 10000, 'the flood to be throttled')
    // Let the client's socket hand what it can to the kernel (the rest, in its
    // own buffer, goes with it when it closes).
    let left = f.socket.writableLength
    for (let i = 0; i < 50; i++) {
      await sleep(20)
      if (f.socket.writableLength === left) break
      left = f.socket.writableLength
    }
    const before = handled()
    f.socket.destroy() // what the client's process exiting does to its socket
    await until(() => !f.agent.isOpen, 15000, 'the gate to see the client gone')
    const after = handled() - before
    t.diagnostic(`${kind}: ${before} run before the client went, ${after} after; the gate had read ${f.agent.msgsIn} of ${FLOOD}`)
    assert.ok(after <= 2 * RATE, `${after} messages ran after the client went (at most ${2 * RATE}, two seconds of its rate)`)
    // Minutes of input were waiting: without the probe the gate would have kept running it.
    assert.ok(before + after < FLOOD / 4)
  })
}

test('a probeMessage that is not registered, or whose schema refuses {}, fails when the app gets ready', async () => {
  for (const [probe, schema] of [['Missing', undefined], ['Strict', Type.Object({ at: Type.Number() })]] as const) {
    const app = Fastify({ logger: false })
    await app.register(gatePlugin, { admin: false, probeMessage: probe })
    if (schema !== undefined) app.gate.message(probe, { schema })
    await assert.rejects(async () => { await app.ready() }, { code: 'FST_GATE_INVALID_OPTION' })
    await app.close()
  }
})
