/**
 * Room presence across nodes (docs/cluster.md, "Rooms"): exact counts and
 * members over two nodes, a SIGKILLed node's members gone within the bound of
 * docs/protocol.md section 5, room pushes asked only of the nodes with members,
 * and the presence hooks, each event once in the cluster, with `died` for a
 * node's death. On a single Redis and on a Redis Cluster.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PresenceEvent } from '../../src/presence-events.js'
import { fastCluster, login, spawnNode, startNode } from '../fixtures/cluster-app.js'
import { until, type Started } from '../helper.js'
import { redisBackends, type RedisBackend } from '../redis-helper.js'
import type { WsClient } from '../clients.js'

const backends = redisBackends()

/** docs/protocol.md section 5: a node that dies without cleaning up disappears from every answer within 15 s. */
const PURGE_BOUND = 15000

async function join (client: WsClient, room: string): Promise<void> {
  client.send('Join', { room })
  assert.equal((await client.nextOf('Echo')).body.text, `joined ${room}`)
}

/** SPUBLISH calls Redis served since the last CONFIG RESETSTAT, over every master: the bus's requests and replies. */
async function spublishes (redis: RedisBackend): Promise<number> {
  let n = 0
  for (const info of await redis.each('INFO', 'commandstats')) {
    const calls = /cmdstat_spublish:calls=(\d+)/.exec(String(info))
    if (calls !== null) n += Number(calls[1])
  }
  return n
}

function record (node: Started): PresenceEvent[] {
  const events: PresenceEvent[] = []
  node.app.gate.onPresence(event => { events.push(event) })
  return events
}

for (const kind of backends.kinds) {
  test(`${kind}: rooms and members are listed cluster-wide and exact; pushes go only to nodes with members`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const alice = [await login(a.wsUrl, 'alice'), await login(b.wsUrl, 'alice')]
    const bob = await login(b.wsUrl, 'bob')
    t.after(() => Promise.all([...alice, bob].map(async client => await client.close())))
    for (const client of [...alice, bob]) await join(client, 'lobby')
    await join(alice[0], 'only-a')
    await join(bob, 'only-b')
    for (let i = 0; i < 5; i++) await join(bob, `r${i}`)

    const expected = [
      { room: 'lobby', connections: 3, uids: 2 },
      { room: 'only-a', connections: 1, uids: 1 },
      { room: 'only-b', connections: 1, uids: 1 },
      ...[0, 1, 2, 3, 4].map(i => ({ room: `r${i}`, connections: 1, uids: 1 }))
    ]
    const sorted = (items: Array<{ room: string }>): string[] => items.map(item => item.room).sort()
    await until(async () => (await a.app.gate.rooms()).total === 8 && (await a.app.gate.room('lobby'))?.total === 3, 5000, 'every room to be listed')
    for (const node of [a, b]) {
      const page = await node.app.gate.rooms(0, 100)
      assert.equal(page.total, 8)
      assert.deepEqual(page.items.slice().sort((x, y) => x.room < y.room ? -1 : 1), expected)
      // Paging: three pages, no room skipped or repeated.
      const pages = [await node.app.gate.rooms(0, 3), await node.app.gate.rooms(3, 3), await node.app.gate.rooms(6, 3)]
      assert.deepEqual(pages.flatMap(p => p.items).map(item => item.room), page.items.map(item => item.room))
      assert.deepEqual(sorted(pages.flatMap(p => p.items)), sorted(expected))
    }

    const lobby = await a.app.gate.room('lobby')
    const ids = [...a.app.gate.agentsOf('alice'), ...b.app.gate.agentsOf('alice'), ...b.app.gate.agentsOf('bob')].map(agent => agent.id).sort()
    assert.deepEqual(lobby?.items.map(m => m.id), ids)
    assert.deepEqual(lobby?.items.map(m => [m.uid, m.node, m.transport, m.protocol]).sort(), [['alice', 'a', 'ws', 'leaf'], ['alice', 'b', 'ws', 'leaf'], ['bob', 'b', 'ws', 'leaf']])
    const halves = [await b.app.gate.room('lobby', 0, 2), await b.app.gate.room('lobby', 2, 2)]
    assert.deepEqual(halves.flatMap(h => h?.items ?? []).map(m => m.id), ids)
    assert.equal(await a.app.gate.room('nobody'), null)
    assert.deepEqual((await a.app.gate.user('alice'))?.connections.map(c => [c.node, c.rooms]).sort(), [['a', ['lobby', 'only-a']], ['b', ['lobby']]])

    // Routing: a push is asked (SPUBLISH, then the reply) only of the other nodes with members.
    await redis.each('CONFIG', 'RESETSTAT')
    assert.deepEqual(await a.app.gate.pushToRoom('only-a', 'Echo', { text: 'a only' }), { delivered: 1 })
    assert.deepEqual(await a.app.gate.pushToRoom('nobody', 'Echo', { text: 'nobody' }), { delivered: 0 })
    assert.equal(await spublishes(redis), 0, 'no node asked for a room with members on the pushing node only, or none')
    assert.deepEqual(await a.app.gate.pushToRoom('only-b', 'Echo', { text: 'b only' }), { delivered: 1 })
    assert.equal(await spublishes(redis), 2, 'b asked once, and answered once')
    assert.deepEqual(await b.app.gate.pushToRoom('lobby', 'Echo', { text: 'everyone' }), { delivered: 3 })
    assert.equal(await spublishes(redis), 4)
    assert.equal((await alice[0].nextOf('Echo')).body.text, 'a only')
    assert.equal((await bob.nextOf('Echo')).body.text, 'b only')
    for (const client of [...alice, bob]) assert.equal((await client.nextOf('Echo')).body.text, 'everyone')

    // Leaving and closing: counts follow, a room without members is gone.
    await bob.close()
    await until(async () => (await a.app.gate.rooms()).total === 2, 5000, 'bob\'s rooms to go')
    assert.deepEqual(sorted((await a.app.gate.rooms()).items), ['lobby', 'only-a'])
    assert.deepEqual((await a.app.gate.rooms()).items.find(item => item.room === 'lobby'), { room: 'lobby', connections: 2, uids: 1 })
    ;[...a.app.gate.agentsOf('alice')][0].leave('only-a')
    await until(async () => await b.app.gate.room('only-a') === null, 5000, 'only-a to empty')
    assert.deepEqual(await b.app.gate.pushToRoom('only-a', 'Echo', { text: 'gone' }), { delivered: 0 })
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: online, offline, join and leave fire once in the cluster; a SIGKILLed node's with died: true`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const onA = record(a)
    const onB = record(b)
    const all = (): PresenceEvent[] => [...onA, ...onB]
    const ofType = (type: PresenceEvent['type'], list = all()): PresenceEvent[] => list.filter(e => e.type === type)

    // alice on both nodes: one online; joins on each node fire there.
    const alice = [await login(a.wsUrl, 'alice'), await login(b.wsUrl, 'alice')]
    await until(() => ofType('online').length === 1 && (onA.length + onB.length) === 1, 5000, 'one online')
    await join(alice[0], 'lobby')
    await join(alice[1], 'lobby')
    assert.deepEqual(ofType('join', onA).map(e => e.type === 'join' ? [e.room, e.node] : []), [['lobby', 'a']])
    assert.deepEqual(ofType('join', onB).map(e => e.type === 'join' ? [e.room, e.node] : []), [['lobby', 'b']])
    await until(async () => (await a.app.gate.user('alice'))?.connections.length === 2, 5000, 'both connections listed')
    assert.equal(ofType('online').length, 1, 'the second connection is not a new online')

    // A node dies with members and a uid of its own: the survivor reports them, died: true.
    const doomed = await spawnNode(t, redis, 'doomed', fastCluster)
    const victims = [await login(doomed.wsUrl, 'victim'), await login(doomed.wsUrl, 'alice')]
    await join(victims[0], 'lobby')
    await join(victims[0], 'doomed-room')
    await join(victims[1], 'lobby')
    await until(async () => (await a.app.gate.room('lobby'))?.total === 4 && (await a.app.gate.rooms()).total === 2, 5000, 'the doomed node\'s members to be listed')
    onA.length = 0
    onB.length = 0
    const killedAt = Date.now()
    doomed.proc.kill('SIGKILL')
    await doomed.exited
    await until(async () => (await a.app.gate.rooms()).total === 1 && (await b.app.gate.room('lobby'))?.total === 2, PURGE_BOUND, 'the dead node\'s members to go')
    t.diagnostic(`members gone from the answers ${Date.now() - killedAt} ms after SIGKILL (nodeTtl ${fastCluster.nodeTtl} ms)`)
    await until(() => all().length === 4, 5000, 'the died events')
    const died = all().map(e => e.type === 'offline' ? [e.type, e.uid, e.node, e.died] : e.type === 'leave' ? [e.type, e.room, e.uid, e.node, e.died] : [e.type]).map(e => JSON.stringify(e)).sort()
    assert.deepEqual(died, [
      ['leave', 'doomed-room', 'victim', 'doomed', true],
      ['leave', 'lobby', 'alice', 'doomed', true],
      ['leave', 'lobby', 'victim', 'doomed', true],
      ['offline', 'victim', 'doomed', true]
    ].map(e => JSON.stringify(e)).sort(), 'alice is still online on a and b: no offline for her')
    assert.deepEqual(await redis.keys('*doomed*'), [])
    assert.deepEqual((await a.app.gate.room('lobby'))?.items.map(m => m.node).sort(), ['a', 'b'])

    // The last connection closes on b: one offline, on b, not died.
    onA.length = 0
    onB.length = 0
    await alice[0].close()
    await until(() => ofType('leave').length === 1, 5000, 'the leave on a')
    assert.equal(ofType('offline').length, 0)
    await alice[1].close()
    await until(() => ofType('offline').length === 1, 5000, 'the offline')
    assert.deepEqual(ofType('offline'), [{ type: 'offline', uid: 'alice', node: 'b', died: false }])
    assert.deepEqual(ofType('leave').map(e => e.type === 'leave' ? [e.node, e.died] : []).sort(), [['a', false], ['b', false]])
    await until(async () => (await a.app.gate.rooms()).total === 0, 5000, 'no room left')
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: after Redis loses its data, every node republishes its members, with no client reconnecting`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const clients = [await login(a.wsUrl, 'alice'), await login(b.wsUrl, 'bob')]
    t.after(() => Promise.all(clients.map(async client => await client.close())))
    for (const client of clients) await join(client, 'lobby')
    await join(clients[1], 'kitchen')
    const listed = async (): Promise<boolean> => {
      const page = await a.app.gate.rooms()
      return page.partial === undefined && JSON.stringify(page.items.map(item => [item.room, item.connections, item.uids]).sort()) === JSON.stringify([['kitchen', 1, 1], ['lobby', 2, 2]])
    }
    await until(listed, 5000, 'both rooms listed')
    // Every server said OK: the rooms are gone. (Looking for them afterwards races
    // with the republishing itself: on a loaded machine a node's tick may come first.)
    assert.deepEqual(new Set(await redis.each('FLUSHALL')), new Set(['OK']), 'Redis lost the rooms')
    await until(listed, 10000, 'both rooms listed again')
    assert.deepEqual((await b.app.gate.room('lobby'))?.items.map(m => [m.uid, m.node]).sort(), [['alice', 'a'], ['bob', 'b']])
    clients[1].send('Tell', { to: 'alice', text: 'still here' })
    assert.equal((await clients[1].nextOf('Told')).body.delivered, 1)
  })
}
