/**
 * Issue: one connection flooding the gate. Replayed against the example app: a
 * client pipelining heartbeats is throttled to GATE_MSG_RATE (not closed)
 * while another client is served meanwhile; failed logins from one IP are
 * throttled, successful ones are not. Assertions are upper bounds or
 * counters, never timings.
 */
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import assert from 'node:assert/strict'
import { Wire } from '../clients.js'
import { recordCloses, until } from '../helper.js'
import { startChat } from './chat.js'

test('a client pipelining 2,000 heartbeats is throttled to its rate, not closed; a bystander is served meanwhile', async (t) => {
  const rate = 50
  const chat = await startChat(t, { GATE_MSG_RATE: String(rate) })
  const closes = recordCloses(chat.app)
  const flooder = await chat.tcp()
  const bystander = await chat.ws()
  const wire = new Wire()
  const beat = wire.frame(wire.encode('C2S_UserHeartBeat', { ptime: 1 }))
  const start = Date.now()
  flooder.sendRaw(Buffer.concat(Array.from({ length: 2000 }, () => beat)))
  let answered = 0
  const counting = (async () => { for (;;) { await flooder.next(30000); answered++ } })().catch(() => {})
  await until(() => chat.app.gate.counters.throttled > 0, 5000, 'the flooder to be throttled')
  for (let i = 0; i < 20; i++) {
    bystander.send('C2S_UserHeartBeat', { ptime: i })
    await bystander.nextOf('C2S_UserHeartBeat')
  }
  const elapsed = (Date.now() - start) / 1000
  const seen = answered
  assert.ok(seen < 2000, 'the bystander was served while the flood was still throttled')
  assert.ok(seen <= 2 * rate + rate * elapsed + 1, `the flooder got ${seen} answers in ${elapsed.toFixed(2)} s (burst ${2 * rate}, rate ${rate}/s)`)
  const [agent] = [...chat.app.gate.local.all()].filter(a => a.transport === 'tcp')
  assert.equal(agent.isOpen, true)
  assert.deepEqual(closes, [])
  void counting
})

test('a throttled TCP flooder leaves its bytes in the kernel: the gate holds at most about one read of them', async (t) => {
  const chat = await startChat(t, { GATE_MSG_RATE: '20' })
  const flooder = await chat.tcp()
  const agent = [...chat.app.gate.local.all()].find(a => a.transport === 'tcp')!
  flooder.send('C2S_UserHeartBeat', { ptime: 0 })
  await flooder.nextOf('C2S_UserHeartBeat')
  const wire = new Wire()
  const beats = Buffer.concat(Array.from({ length: 20000 }, () => wire.frame(wire.encode('C2S_UserHeartBeat', { ptime: 1 }))))
  // What the process holds in buffers, the flood aside: the client writes the same
  // buffer five times (no copy), so what grows is what the gate read and kept.
  const before = process.memoryUsage().arrayBuffers
  for (let i = 0; i < 5; i++) flooder.sendRaw(beats) // about 4 MB
  let most = 0
  for (let i = 0; i < 40; i++) {
    await sleep(25)
    most = Math.max(most, process.memoryUsage().arrayBuffers - before)
  }
  assert.ok(chat.app.gate.counters.throttled > 0)
  assert.ok(most <= 1024 * 1024, `the process's buffers grew by at most ${most} bytes while ${5 * beats.length} were sent`)
  assert.equal(agent.isOpen, true)
})

test('failed logins from one IP are throttled (10/s, burst 20 by default); another IP and successful logins are not', async (t) => {
  const chat = await startChat(t)
  const gate = chat.app.gate
  const start = Date.now()
  let failed = 0
  const attempts = Array.from({ length: 40 }, async () => {
    const c = await chat.tcp()
    c.send('C2S_UserLogin', { token: 'not-a-token', login_plat: 1 })
    assert.equal((await c.nextOf('S2C_UserLogin', 20000)).body.ret, 0)
    failed++
    await c.closed
  })
  await until(() => gate.counters.loginsThrottled > 0, 10000, 'a failed login to wait')
  const elapsed = (Date.now() - start) / 1000
  assert.ok(failed <= 20 + 10 * elapsed + 1, `${failed} failed logins in ${elapsed.toFixed(2)} s`)
  // Another address logs in at once.
  const before = gate.counters.loginsThrottled
  const { client } = await chat.user('alice', 'ws', '127.0.0.6')
  assert.ok(client)
  await Promise.all(attempts)
  assert.equal(failed, 40)
  // Successful logins give their token back: 40 in a row from one address never wait.
  const waitsBefore = gate.counters.loginsThrottled
  for (let i = 0; i < 40; i++) await chat.user(`u${i}`, 'tcp', '127.0.0.7')
  assert.equal(gate.counters.loginsThrottled, waitsBefore)
  assert.ok(before >= 1)
})
