/**
 * By hand, not CI (`node --import tsx bench/request-rtt.ts`): one SDK client over
 * a local WebSocket, N sequential round trips, a plain message answered by its
 * handler (`next('Pong')`) against the same handler asked with `client.request`
 * (Gate_Request + the message, then Gate_Reply + the answer). Two rounds, the
 * first warms up.
 */
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import gatePlugin from '../plugins/gate.js'
import { createClient, json, webSocket } from '../client/node.js'
const app = Fastify()
await app.register(gatePlugin, { clientControl: true, admin: false, msgRate: 0, msgRatePerIp: 0 })
app.gate.message('Ping', { schema: Type.Object({ n: Type.Integer() }), answer: 'Pong' }, (m: { n: number }) => ({ n: m.n }))
app.gate.message('Pong', { schema: Type.Object({ n: Type.Integer() }) })
await app.listen({ port: 0, host: '127.0.0.1' })
const { port } = app.server.address() as { port: number }
const c = createClient({ transport: webSocket(`ws://127.0.0.1:${port}/ws`), codec: json() })
await c.connect()
const N = 5000
for (let round = 0; round < 2; round++) {
  let t0 = performance.now()
  for (let i = 0; i < N; i++) { const p = c.next('Pong'); c.send('Ping', { n: i }); await p }
  const plain = performance.now() - t0
  t0 = performance.now()
  for (let i = 0; i < N; i++) await c.request('Ping', { n: i })
  const req = performance.now() - t0
  console.log(`round ${round}: ${N} sequential round trips: plain message ${(plain / N * 1000).toFixed(0)} µs each, request ${(req / N * 1000).toFixed(0)} µs each`)
}
c.close(); await app.close()
