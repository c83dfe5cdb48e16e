/**
 * The HTTP server announces the keep-alive time the gate enforces. Node sends
 * `Keep-Alive: timeout=<server.keepAliveTimeout in s>` (Fastify's is 72 s);
 * the gate drops an idle connection after its own `keepAliveTimeout` (5 s), so
 * a client trusting the announcement reused a connection just dropped, and its
 * request failed (undici: "fetch failed", in `npm run bench:hold`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startCore } from '../helper.js'

async function announced (url: string): Promise<string | null> {
  const res = await fetch(`${url}/gate/protocol`)
  await res.text()
  return res.headers.get('keep-alive')
}

test('the announced keep-alive timeout is the gate\'s keepAliveTimeout (default 5 s), never longer than the server\'s own', async (t) => {
  const byDefault = await startCore(t, { admin: {} })
  assert.equal(await announced(byDefault.httpUrl), 'timeout=5')
  assert.equal(byDefault.app.server.keepAliveTimeout, 5000)

  const shorter = await startCore(t, { admin: {}, keepAliveTimeout: 3000 })
  assert.equal(await announced(shorter.httpUrl), 'timeout=3')

  // A server already shorter keeps its own; 0 leaves the server's (Fastify's 72 s).
  const own = await startCore(t, { admin: {} }, undefined, { keepAliveTimeout: 2000 })
  assert.equal(await announced(own.httpUrl), 'timeout=2')
  const off = await startCore(t, { admin: {}, keepAliveTimeout: 0 })
  assert.equal(await announced(off.httpUrl), 'timeout=72')
})
