/**
 * Issue 21, weaker item: a WebSocket that went away without a close frame was
 * recorded as 1006 with no log line. Now one line says so (repeats capped),
 * counted through the logger's destination.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { captureLogs, closeOf, connectAgent, recordCloses, registerTestMessages, startCore } from '../helper.js'
import type { WsClient } from '../clients.js'

test('connections lost without a close frame are logged with their reason, one line each up to the cap', async (t) => {
  const logs = captureLogs('info')
  const s = await startCore(t, {}, registerTestMessages, { logger: logs.logger })
  const closes = recordCloses(s.app)
  const lost = []
  for (let i = 0; i < 15; i++) {
    const { client, agent } = await connectAgent(s, 'ws')
    ;(client as WsClient).ws.terminate() // no close frame: the socket just goes
    lost.push(agent)
  }
  for (const agent of lost) assert.equal((await closeOf(closes, agent)).code, 1006)
  const lines = logs.lines.filter(l => l.msg === 'connection lost')
  assert.equal(lines.length, 10, 'one line each, capped at 10 per window')
  assert.equal(lines[0]!.closeCode, 1006)
  assert.match(lines[0]!.reason, /no close frame/)
})
