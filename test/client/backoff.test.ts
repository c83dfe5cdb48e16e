import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffCeiling, backoffDelay, normalizeReconnect, retryDelay } from '../../client/backoff.js'

test('backoff: the ceiling doubles from initialDelay up to maxDelay; jitter keeps each delay in [ceiling × (1 − jitter), ceiling]', () => {
  const r = normalizeReconnect({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.3 })
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(n => backoffCeiling(n, r)), [100, 200, 400, 800, 1000, 1000, 1000])
  for (const random of [0, 0.25, 0.5, 0.999]) {
    const rr = { ...r, random: () => random }
    for (let n = 1; n <= 8; n++) {
      const d = backoffDelay(n, rr)
      const c = backoffCeiling(n, r)
      assert.ok(d <= c && d >= Math.floor(c * 0.7), `attempt ${n}, random ${random}: ${d}`)
    }
  }
  assert.equal(backoffDelay(3, { ...r, random: () => 0 }), 400)
})

test('backoff: the defaults stop on 4001, 4002 and 4003; bad options throw', () => {
  assert.deepEqual(normalizeReconnect().stopCodes, [4001, 4002, 4003])
  assert.throws(() => normalizeReconnect({ initialDelay: 10, maxDelay: 5 }), RangeError)
  assert.throws(() => normalizeReconnect({ jitter: 2 }), RangeError)
  assert.throws(() => normalizeReconnect({ factor: 0.5 }), RangeError)
})

test('backoff: after 1012 (service restart) the retry waits a random delay in [0, restartDelay], whatever the attempt; other codes keep the backoff', () => {
  const r = normalizeReconnect({ initialDelay: 100, maxDelay: 1000, restartDelay: 3000 })
  assert.equal(normalizeReconnect().restartDelay, 2000)
  for (const [random, want] of [[0, 0], [0.5, 1500], [0.9999, 3000]] as const) {
    for (const attempt of [1, 5]) assert.equal(retryDelay(attempt, 1012, { ...r, random: () => random }), want)
  }
  assert.equal(retryDelay(3, 1006, { ...r, random: () => 0 }), backoffDelay(3, { ...r, random: () => 0 }))
  assert.throws(() => normalizeReconnect({ restartDelay: -1 }), RangeError)
  assert.throws(() => normalizeReconnect({ restartDelay: Infinity }), RangeError)
})
