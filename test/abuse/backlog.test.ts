/**
 * Issue 21, attack 1: the process-wide backlog bound filled for free by stalled
 * room members (a shared frame was counted once per receiver), after which a
 * reader that had paused was closed. Now a shared frame counts once, and when
 * the bound binds the largest queues go first. Figures are the gate's own
 * (`gate.backlog`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as turn } from 'node:timers/promises'
import { CloseCode } from '../../src/close-codes.js'
import type { Agent } from '../../src/agent.js'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startCore, until, type Client } from '../helper.js'
import type { TcpClient } from '../clients.js'

const MiB = 1024 * 1024

test('20 stalled room members cannot fill the process-wide bound: a reader that paused, then reads, gets every message', async (t) => {
  const limits = { maxBufferedBytes: MiB, maxTotalBufferedBytes: 4 * MiB }
  const s = await startCore(t, { ...limits, maxMsgLen: 65535, msgRate: 0, msgRatePerIp: 0 }, registerTestMessages)
  const gate = s.app.gate
  const closes = recordCloses(s.app)
  const stalled: Agent[] = []
  for (let i = 0; i < 20; i++) {
    const { client, agent } = await connectAgent(s, 'tcp')
    ;(client as TcpClient).socket.pause()
    agent.join('lobby')
    stalled.push(agent)
  }
  const { client, agent: reader } = await connectAgent(s, 'tcp')
  const readerSocket = (client as TcpClient).socket
  readerSocket.pause()
  reader.join('lobby')

  const text = 'z'.repeat(60000)
  let pushes = 0
  let paused = true
  let mostQueuedByStalled = 0
  while (stalled.some(a => a.isOpen) || paused) {
    assert.ok(pushes < 3000, 'bounded')
    await gate.pushToRoom('lobby', 'Echo', { text, n: pushes })
    pushes++
    const queued = stalled.reduce((sum, a) => sum + a.queuedBytes, 0)
    mostQueuedByStalled = Math.max(mostQueuedByStalled, queued)
    // The reader resumes once it has a backlog of its own and the stalled queues
    // add up to more than the process-wide bound: counted per receiver, it would be shed now.
    if (paused && reader.queuedBytes > 0 && queued > limits.maxTotalBufferedBytes) {
      paused = false
      readerSocket.resume()
    }
    await turn()
  }
  for (let i = 0; i < 10; i++) await gate.pushToRoom('lobby', 'Echo', { text, n: pushes++ })
  await readAll(client, pushes)
  t.diagnostic(`${pushes} room pushes of 60 KB; stalled queues added up to ${(mostQueuedByStalled / MiB).toFixed(1)} MiB at most; the backlog (bytes held) peaked at ${(gate.backlog.peak / MiB).toFixed(2)} MiB; shed ${gate.backlog.shed}`)
  assert.ok(mostQueuedByStalled > limits.maxTotalBufferedBytes, 'the attack would have passed the bound when counted per receiver')
  assert.ok(gate.backlog.peak <= limits.maxBufferedBytes, `bytes really held stayed within one queue's bound (peak ${gate.backlog.peak})`)
  assert.equal(gate.backlog.shed, 0, 'the process-wide bound never had to shed anyone')
  assert.equal(reader.isOpen, true)
  for (const a of stalled) assert.deepEqual(await closeOf(closes, a), { id: a.id, transport: 'tcp', code: CloseCode.SLOW_CONSUMER, reason: 'slow consumer' })
  await until(() => gate.backlog.bytes === 0 && gate.backlog.holders.size === 0, 5000, 'the backlog to empty')
})

test('when the process-wide bound binds, the largest queues are shed first; a smaller one and a reader that keeps up stay', async (t) => {
  const s = await startCore(t, { maxBufferedBytes: 4 * MiB, maxTotalBufferedBytes: 6 * MiB, maxMsgLen: 65535, msgRate: 0, msgRatePerIp: 0 }, registerTestMessages)
  const gate = s.app.gate
  const closes = recordCloses(s.app)
  const big: Agent[] = []
  for (let i = 0; i < 3; i++) {
    const { client, agent } = await connectAgent(s, 'tcp')
    ;(client as TcpClient).socket.pause()
    big.push(agent)
  }
  const { client: smallClient, agent: small } = await connectAgent(s, 'tcp')
  ;(smallClient as TcpClient).socket.pause()
  const { client: readerClient, agent: reader } = await connectAgent(s, 'tcp')
  const text = 'q'.repeat(60000)
  let sent = 0
  // Each gets frames of its own (not shared): the small one one for every eight the big ones get.
  for (let i = 0; big.some(a => a.isOpen); i++) {
    assert.ok(i < 5000, 'bounded')
    for (const a of big) a.send('Echo', { text, n: i })
    if (i % 8 === 0) small.send('Echo', { text, n: i })
    reader.send('Echo', { text, n: sent++ })
    assert.ok(gate.backlog.bytes <= 6 * MiB)
    await turn()
  }
  const reasons = []
  for (const a of big) {
    const c = await closeOf(closes, a)
    assert.equal(c.code, CloseCode.SLOW_CONSUMER)
    reasons.push(c.reason)
  }
  // The last big one may pass its own bound first, once the others are gone.
  assert.ok(reasons.filter(r => r === 'slow consumer: server backlog full').length >= 2, reasons.join())
  assert.equal(small.isOpen, true, 'the smaller queue was not shed')
  assert.equal(reader.isOpen, true)
  assert.ok(gate.backlog.shed >= 2 && gate.backlog.shed <= 3)
  await readAll(readerClient, sent)
})

async function readAll (client: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await client.nextOf('Echo', 20000)).body.n, i)
}
