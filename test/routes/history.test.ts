import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startGate } from '../helper.js'
import { registerHistoryMessages } from '../history/app.js'
import { assertError, call, ok, startAdmin, TOKENS } from './helper.js'

test('POST /gate/push says stored beside delivered; GET /gate/users/:uid/history pages through what was kept', async (t) => {
  const s = await startGate(t, { admin: { tokens: [...TOKENS] }, history: { maxCount: 5 } }, registerHistoryMessages)
  for (let n = 1; n <= 7; n++) {
    assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: ['away'], name: 'Note', body: { text: 'kept', n } } }), { delivered: 0, stored: 1 })
  }
  const page1 = await ok(s, { url: '/gate/users/away/history?limit=3' })
  assert.equal(typeof page1.epoch, 'string')
  assert.deepEqual([page1.first, page1.last, page1.next], [3, 7, 5])
  assert.deepEqual(page1.items.map((i: any) => [i.offset, i.name, i.body.n]), [[3, 'Note', 3], [4, 'Note', 4], [5, 'Note', 5]])
  const page2 = await ok(s, { url: `/gate/users/away/history?limit=3&after=${page1.next as number}` })
  assert.deepEqual(page2.items.map((i: any) => i.offset), [6, 7])
  assert.equal(page2.next, undefined)
  const none = await ok(s, { url: '/gate/users/nobody/history' })
  assert.deepEqual(none, { uid: 'nobody', epoch: '', first: 1, last: 0, items: [] })
  assertError(await call(s, { url: '/gate/users/away/history?limit=0' }), 400, 'FST_ERR_VALIDATION')
  assertError(await call(s, { url: '/gate/users/away/history', token: null }), 401, 'FST_GATE_UNAUTHORIZED')
})

test('GET /gate/users/:uid/history without any message kept in history is 404 FST_GATE_NO_HISTORY', async (t) => {
  const s = await startAdmin(t)
  assertError(await call(s, { url: '/gate/users/alice/history' }), 404, 'FST_GATE_NO_HISTORY')
})
