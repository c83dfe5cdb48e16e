/**
 * Issue 21, attack 1 as replayed against `npm start`: one address's burst of
 * room pushes to its own 301 members was 602,000 frame writes in one go, and
 * the bystander waited behind all of it (p99 6.4 s). The inboxes now do at
 * most `SLICE_MS` of handler work per turn of the event loop and let the
 * sockets be read between slices. Counts, not timings: how much of the burst
 * ran before the bystander's message.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from '@sinclair/typebox'
import { Wire } from '../clients.js'
import { startCore } from '../helper.js'

test('a connection\'s burst of expensive messages does not run ahead of another client\'s message for all of it', async (t) => {
  let heavyRun = 0
  let seenByLight = -1
  const s = await startCore(t, { msgRate: 0, msgRatePerIp: 0, pendingReadNum: 1000 }, (app) => {
    app.gate
      .message('Heavy', { schema: Type.Object({}), needsLogin: false }, async () => {
        // A room push to hundreds, say: 5 ms of work for this process, then an await.
        const end = performance.now() + 5
        while (performance.now() < end) { /* busy */ }
        heavyRun++
        await Promise.resolve()
      })
      .message('Light', { schema: Type.Object({}), needsLogin: false }, (_msg, agent) => {
        seenByLight = heavyRun
        agent.send('Light', {})
      })
  })
  const wire = new Wire()
  const flooder = await s.tcp(wire)
  const bystander = await s.ws(wire)
  // 400 heavy messages in one write: about 2 s of work for the gate.
  flooder.sendRaw(Buffer.concat(Array.from({ length: 400 }, () => wire.frame(wire.encode('Heavy', {})))))
  bystander.send('Light', {})
  await bystander.nextOf('Light', 30000)
  t.diagnostic(`the bystander's message ran after ${seenByLight} of the 400 heavy messages`)
  assert.ok(seenByLight < 200, `${seenByLight} heavy messages ran before the bystander's (400 in the burst)`)
})
