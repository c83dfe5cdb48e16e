import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Agent } from '../../src/agent.js'
import { CloseCode } from '../../src/close-codes.js'
import { agentsByNode, nodeOfAgent, uidsByNode } from '../../src/cluster/routing.js'
import { WsClient } from '../clients.js'
import { login, startNode } from '../fixtures/cluster-app.js'
import { until, type Started } from '../helper.js'
import { redisBackends } from '../redis-helper.js'

const backends = redisBackends()

/** Asserts that `client`'s next message is an Echo of `text`. */
async function expectEcho (client: WsClient, text: string): Promise<void> {
  const msg = await client.next()
  assert.deepEqual({ name: msg.name, text: msg.body.text }, { name: 'Echo', text })
}

/** Asserts that nothing reached `client` so far: an echo of its own comes back first. */
async function expectNothing (client: WsClient): Promise<void> {
  client.send('Echo', { text: 'marker' })
  await expectEcho(client, 'marker')
}

async function online (node: Started, uid: string, connections: number): Promise<void> {
  await until(async () => (await node.app.gate.user(uid))?.connections.length === connections, 5000, `${uid} to have ${connections} connection(s)`)
}

test('agent ids route to everything before their last "-"; uids to the nodes of their connections', () => {
  assert.equal(nodeOfAgent('a-1'), 'a')
  assert.equal(nodeOfAgent('eu-west-1-2z'), 'eu-west-1')
  assert.equal(nodeOfAgent('nodash'), undefined)
  assert.equal(nodeOfAgent('-1'), undefined)
  assert.deepEqual(agentsByNode(['a-1', 'b-2', 'a-3', 'junk']), new Map([['a', ['a-1', 'a-3']], ['b', ['b-2']]]))
  assert.deepEqual(uidsByNode(['u', 'v', 'w'], [['a-1', 'a-2', 'b-1'], [], ['b-2']]), new Map([['a', ['u']], ['b', ['u', 'w']]]))
})

for (const kind of backends.kinds) {
  test(`${kind}: push, uid-to-uid, room, broadcast and kick across nodes count every node exactly`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const c = await startNode(t, redis.option, 'c')
    const alice = await login(a.wsUrl, 'alice')
    const bobs = [await login(b.wsUrl, 'bob'), await login(b.wsUrl, 'bob'), await login(c.wsUrl, 'bob')]
    const carol = await login(c.wsUrl, 'carol')
    const anon = await WsClient.connect(b.wsUrl)
    const all = [alice, ...bobs, carol, anon]
    t.after(() => Promise.all(all.map(async client => await client.close())))
    await online(a, 'bob', 3)
    await online(a, 'carol', 1)
    await until(async () => (await a.app.gate.stats()).connections === 6, 5000, 'every connection to be counted')

    // Admin push from a: b and c deliver, nothing reaches alice.
    assert.deepEqual(await a.app.gate.pushToUids(['bob', 'carol', 'nobody'], 'Echo', { text: 'hi' }), { delivered: 4 })
    for (const client of [...bobs, carol]) await expectEcho(client, 'hi')
    await expectNothing(alice)

    // uid-to-uid: alice (on a) tells bob (on b and c).
    alice.send('Tell', { to: 'bob', text: 'yo' })
    assert.deepEqual((await alice.nextOf('Told')).body, { delivered: 3, partial: false })
    for (const bob of bobs) await expectEcho(bob, 'alice: yo')
    await expectNothing(carol)

    // A room with members on a, b and c; pushed from b.
    const anonAgent = (): Agent => [...b.app.gate.local.all()].find(agent => agent.uid === undefined)!
    ;[...a.app.gate.agentsOf('alice')][0].join('r')
    anonAgent().join('r')
    ;[...c.app.gate.agentsOf('carol')][0].join('r')
    // A join reaches the other nodes once its node's write landed in Redis (as a login does).
    await until(async () => (await b.app.gate.room('r'))?.total === 3, 5000, 'the three members to be listed')
    assert.deepEqual(await b.app.gate.pushToRoom('r', 'Echo', { text: 'room' }), { delivered: 3 })
    for (const client of [alice, anon, carol]) await expectEcho(client, 'room')
    for (const bob of bobs) await expectNothing(bob)
    assert.deepEqual(await b.app.gate.pushToRoom('empty', 'Echo', { text: 'nobody' }), { delivered: 0 })

    assert.deepEqual(await c.app.gate.broadcast('Echo', { text: 'all' }), { delivered: 6 })
    for (const client of all) await expectEcho(client, 'all')
    assert.deepEqual(await c.app.gate.broadcast('Echo', { text: 'users' }, { loggedInOnly: true }), { delivered: 5 })
    for (const client of [alice, ...bobs, carol]) await expectEcho(client, 'users')
    await expectNothing(anon)

    // Kick by uid from a: bob's three connections on b and c.
    assert.deepEqual(await a.app.gate.kick({ uids: ['bob'] }, 'bye'), { kicked: 3 })
    for (const bob of bobs) assert.deepEqual(await bob.closed, { code: CloseCode.KICKED, reason: 'bye' })

    // Kick by agent id from c: routed by the node part of the id; an id of no live node kicks nothing.
    const anonId = anonAgent().id
    const aliceId = [...a.app.gate.agentsOf('alice')][0].id
    assert.deepEqual(await c.app.gate.kick({ agents: [anonId, aliceId, 'gone-node-1'] }), { kicked: 2 })
    assert.equal((await anon.closed).code, CloseCode.KICKED)
    assert.equal((await alice.closed).code, CloseCode.KICKED)
    await until(async () => (await b.app.gate.stats()).connections === 1, 5000, 'only carol to be left')
    assert.deepEqual((await b.app.gate.users(0, 10)).items, [{ uid: 'carol', connections: 1 }])
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: multiLogin "replace" closes the uid's connections on other nodes with 4002`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a', { multiLogin: 'replace' })
    const b = await startNode(t, redis.option, 'b', { multiLogin: 'replace' })
    const first = await login(a.wsUrl, 'dana')
    t.after(() => first.close())
    await online(b, 'dana', 1)
    const second = await login(b.wsUrl, 'dana')
    t.after(() => second.close())
    assert.equal((await first.closed).code, CloseCode.REPLACED)
    await online(a, 'dana', 1)
    assert.deepEqual((await a.app.gate.user('dana'))?.connections.map(conn => conn.node), ['b'])
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: multiLogin "reject" refuses a uid online on another node`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a', { multiLogin: 'reject' })
    const b = await startNode(t, redis.option, 'b', { multiLogin: 'reject' })
    const first = await login(a.wsUrl, 'erin')
    const other = await WsClient.connect(b.wsUrl)
    t.after(() => Promise.all([first.close(), other.close()]))
    await online(b, 'erin', 1)
    await until(() => b.app.gate.connectionCount === 1, 5000, 'the second connection')
    const agent = [...b.app.gate.local.all()][0]
    await assert.rejects(agent.bind('erin'), { code: 'FST_GATE_UID_IN_USE' })
    await first.close()
    await until(async () => (await b.app.gate.user('erin')) === null, 5000, 'erin to be offline')
    await agent.bind('erin')
    assert.equal(agent.uid, 'erin')
  })
}
