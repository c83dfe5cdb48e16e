/**
 * Issue 21, attack 6: one address with many connections, each within its own
 * message rate, took the gate from everyone (1,000 connections: a bystander's
 * p50 2.98 s). Now all connections of one address share a message budget
 * (`msgRatePerIp`, the example's GATE_MSG_RATE_PER_IP); the figures are the
 * gate's own counters.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Agent } from '../../src/agent.js'
import { until } from '../helper.js'
import { startChat, type Client } from './chat.js'
import { Wire } from '../clients.js'

test('30 connections from 127.0.0.2 flooding share one budget; a bystander on 127.0.0.3 gets every answer; a flooder that leaves costs nothing more', async (t) => {
  const rate = 200
  const chat = await startChat(t, { GATE_MSG_RATE: '100', GATE_MSG_RATE_PER_IP: String(rate) })
  const gate = chat.app.gate
  const flooders: Array<{ client: Client, agent: Agent }> = []
  for (let i = 0; i < 30; i++) {
    const before = new Set(gate.local.all())
    const client = await chat.tcp('127.0.0.2')
    let agent: Agent | undefined
    await until(() => (agent = [...gate.local.all()].find(a => !before.has(a))) !== undefined)
    flooders.push({ client, agent: agent! })
  }
  // Each pipelines 300 heartbeats: 9,000 in all. Alone, each connection's own
  // bucket would let 200 of them run at once (6,000 in all).
  const wire = new Wire()
  const burst = Buffer.concat(Array.from({ length: 300 }, () => wire.frame(wire.encode('C2S_UserHeartBeat', { ptime: 1 }))))
  const started = Date.now()
  for (const { client } of flooders) client.sendRaw(burst)
  await until(() => gate.counters.addressThrottled > 0, 5000, 'the address budget to bind')

  const bystander = await chat.tcp('127.0.0.3')
  for (let i = 0; i < 20; i++) {
    bystander.send('C2S_UserHeartBeat', { ptime: i })
    await bystander.nextOf('C2S_UserHeartBeat')
  }
  const handled = (): number => flooders.reduce((n, f) => n + f.agent.msgsOut, 0)
  const elapsed = (Date.now() - started) / 1000
  const flooded = handled()
  t.diagnostic(`flooders answered ${flooded} heartbeats in ${elapsed.toFixed(2)} s (budget ${2 * rate} + ${rate}/s); throttled by address ${gate.counters.addressThrottled} times, by connection ${gate.counters.throttled}`)
  // An upper bound from the bucket itself: burst, plus the rate for the time that passed.
  assert.ok(flooded <= 2 * rate + rate * elapsed + flooders.length, `the address got one budget (${flooded} in ${elapsed} s)`)
  assert.ok(flooded < 6000, 'far fewer than each connection alone would have been allowed')

  // The flooders leave with messages still waiting: their unread input is
  // dropped. Handler runs are counted through the gate's observer.
  let runs = 0
  const previous = gate.runtime.observer
  gate.runtime.observer = { ...previous, handled: (name, seconds, failed) => { runs++; previous?.handled?.(name, seconds, failed) } }
  assert.ok(flooded < flooders.length * 300, 'some flooders had messages waiting')
  for (const { client } of flooders) (client as { socket: { resetAndDestroy: () => void } }).socket.resetAndDestroy()
  await until(() => flooders.every(f => !f.agent.isOpen), 5000, 'the flooders to be closed')
  for (const { agent } of flooders) assert.equal(gate.dispatch.busy(agent), false, 'no inbox is left to run')
  // Past a refill of the address's bucket (rate per second), only the
  // bystander's own messages run: nothing the flooders left is handled.
  const before = runs
  const throttledBefore = gate.counters.addressThrottled
  const closedAt = Date.now()
  let asked = 0
  while (Date.now() - closedAt < 1500) {
    bystander.send('C2S_UserHeartBeat', { ptime: asked++ })
    await bystander.nextOf('C2S_UserHeartBeat')
  }
  assert.equal(runs - before, asked, 'handlers ran only for the bystander after the flooders left')
  // What they left takes no more of their address's budget (it is dropped, not drained).
  assert.equal(gate.counters.addressThrottled, throttledBefore, 'no closed flooder is throttled again')
  bystander.send('C2S_UserHeartBeat', { ptime: 99 })
  assert.equal((await bystander.nextOf('C2S_UserHeartBeat')).name, 'C2S_UserHeartBeat')
})
