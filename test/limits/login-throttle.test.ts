import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admission } from '../../src/limits/admission.js'
import { LoginThrottle } from '../../src/limits/login-throttle.js'

const limits = { maxConnNum: 100, maxConnPerIp: 100, connRatePerIp: 0, loginRatePerIp: 1 }

/** A connection as the throttle sees it. */
function conn (ip = '127.0.0.1', uid?: string): { remoteAddress: string, uid: string | undefined } {
  return { remoteAddress: ip, uid }
}

test('failed logins use up the IP\'s burst (2 x rate); the next waits, and is counted', () => {
  let throttled = 0
  const t = new LoginThrottle(new Admission(limits), 1, () => { throttled++ })
  assert.equal(t.attempt(conn()), 0)
  assert.equal(t.attempt(conn()), 0)
  assert.ok(t.attempt(conn()) > 0, 'the third connection of the IP waits')
  assert.equal(throttled, 1)
  assert.equal(t.attempt(conn('127.0.0.2')), 0, 'another IP has its own bucket')
})

test('a connection takes one token for all its attempts, and a successful bind gives it back', () => {
  const t = new LoginThrottle(new Admission(limits), 1, () => {})
  const a = conn()
  assert.equal(t.attempt(a), 0)
  assert.equal(t.attempt(a), 0, 'a second attempt of the same connection takes nothing more')
  t.succeeded(a)
  const b = conn()
  const c = conn()
  assert.equal(t.attempt(b), 0)
  assert.equal(t.attempt(c), 0, 'the token came back: two more fit in the burst')
  assert.ok(t.attempt(conn()) > 0)
  t.succeeded(conn()) // one that held no token gives nothing back
  assert.ok(t.attempt(conn()) > 0)
})

test('a connection with a uid, or a rate of 0, is never throttled', () => {
  const t = new LoginThrottle(new Admission(limits), 1, () => { assert.fail('not throttled') })
  for (let i = 0; i < 10; i++) assert.equal(t.attempt(conn('127.0.0.1', 'u1')), 0)
  const off = new LoginThrottle(new Admission({ ...limits, loginRatePerIp: 0 }), 0, () => { assert.fail('not throttled') })
  for (let i = 0; i < 10; i++) assert.equal(off.attempt(conn()), 0)
})
