import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { freeAddresses, reach, sdkClient, startServer } from './helper.js'

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: after the server is killed (SIGKILL) and started again, WS and TCP clients reconnect and chat`, async (t) => {
    const at = await freeAddresses()
    const first = await startServer(t, at, encoding)
    const reconnect = { initialDelay: 20, maxDelay: 100 }
    const alice = await sdkClient(t, at, 'ws', 'alice', { reconnect })
    const bob = await sdkClient(t, at, 'tcp', 'bob', { reconnect })
    await Promise.all([alice.connect(), bob.connect()])

    first.kill('SIGKILL')
    await once(first, 'exit')
    const [a, b] = await Promise.all([reach(alice, 'reconnecting'), reach(bob, 'reconnecting')])
    assert.ok(a.status === 'reconnecting' && a.code === 1006, 'no close frame from a killed server')
    assert.ok(b.status === 'reconnecting' && b.code === 1006)

    await startServer(t, at, encoding)
    await Promise.all([reach(alice, 'connected'), reach(bob, 'connected')])
    const got = bob.next('S2C_Message')
    alice.send('C2S_Message', { to_uid: 'bob', content: 'back again' })
    assert.equal((await got).content, 'back again')
  })
}

test('a server that stops answering (SIGSTOP) is detected by the heartbeat timeout; the client retries until it answers again', async (t) => {
  const at = await freeAddresses()
  const server = await startServer(t, at, 'json')
  t.after(() => { server.kill('SIGCONT') })
  const heartbeat = { name: 'C2S_UserHeartBeat' as const, body: () => ({ ptime: 1 }), interval: 50, timeout: 300 }
  const clients = [
    await sdkClient(t, at, 'ws', 'alice', { heartbeat, reconnect: { initialDelay: 20, maxDelay: 100 }, connectTimeout: 500 }),
    await sdkClient(t, at, 'tcp', 'bob', { heartbeat, reconnect: { initialDelay: 20, maxDelay: 100 }, connectTimeout: 500 })
  ]
  await Promise.all(clients.map(c => c.connect()))
  server.kill('SIGSTOP')
  for (const c of clients) {
    const s = await reach(c, 'reconnecting')
    assert.ok(s.status === 'reconnecting' && s.code === 4000 && /nothing received/.test(s.reason), JSON.stringify(s))
  }
  server.kill('SIGCONT')
  await Promise.all(clients.map(async c => await reach(c, 'connected')))
  const got = clients[1].next('S2C_Message')
  clients[0].send('C2S_Message', { to_uid: 'bob', content: 'awake' })
  assert.equal((await got).content, 'awake')
})
