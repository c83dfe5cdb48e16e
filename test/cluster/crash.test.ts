import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fastCluster, login, spawnNode, startNode } from '../fixtures/cluster-app.js'
import { until } from '../helper.js'
import { redisBackends } from '../redis-helper.js'

const backends = redisBackends()

/** docs/protocol.md: a node that dies without cleaning up disappears from every answer within 15 s. */
const PURGE_BOUND = 15000

for (const kind of backends.kinds) {
  test(`${kind}: a node killed with SIGKILL disappears from every answer, and its keys are purged`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const doomed = await spawnNode(t, redis, 'doomed', fastCluster)
    const clients = [await login(doomed.wsUrl, 'victim'), await login(doomed.wsUrl, 'victim'), await login(doomed.wsUrl, 'shared'), await login(a.wsUrl, 'shared')]
    t.after(() => Promise.all(clients.map(async client => await client.close())))
    await until(async () => (await a.app.gate.stats()).connections === 4, 5000, 'every connection to be counted')
    assert.equal((await a.app.gate.stats()).nodes, 2)

    const killedAt = Date.now()
    doomed.proc.kill('SIGKILL')
    await doomed.exited
    await until(async () => (await a.app.gate.stats()).nodes === 1, PURGE_BOUND, 'the dead node to leave the answers')
    t.diagnostic(`gone from the answers ${Date.now() - killedAt} ms after SIGKILL (nodeTtl ${fastCluster.nodeTtl} ms)`)

    assert.deepEqual(await a.app.gate.stats(), { onlineUsers: 1, connections: 1, nodes: 1, transports: { ws: 1, tcp: 0 }, protocols: { leaf: 1, mqtt: 0 }, node: 'a', mode: 'cluster' })
    assert.deepEqual((await a.app.gate.users(0, 10)).items, [{ uid: 'shared', connections: 1 }])
    assert.equal(await a.app.gate.user('victim'), null)
    assert.deepEqual((await a.app.gate.user('shared'))?.connections.map(conn => conn.node), ['a'])
    assert.deepEqual(await a.app.gate.pushToUids(['victim', 'shared'], 'Echo', { text: 'after' }), { delivered: 1 })

    // The survivor deleted the dead node's keys, not only hid them.
    assert.deepEqual(await redis.keys('*doomed*'), [])
    assert.deepEqual(await redis.keys('*victim*'), [])
    const presence = await redis.keys('*:uid:*')
    assert.deepEqual(presence.map(key => key.replace(/^\{gate:p\d+\}/, 'B')), ['B:uid:shared'])
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: a frozen or killed node that is still registered is reported in missingNodes, not waited on`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    // A long TTL, so that the node stays registered through the test.
    const other = await spawnNode(t, redis, 'other', { ...fastCluster, nodeTtl: 120000, heartbeat: 1000 })
    const far = await login(other.wsUrl, 'both')
    far.send('Join', { room: 'any' })
    await far.nextOf('Echo')
    const near = await login(a.wsUrl, 'both')
    t.after(() => Promise.all([far.close(), near.close()]))
    await until(async () => (await a.app.gate.user('both'))?.connections.length === 2, 5000, 'both connections to be listed')
    assert.deepEqual(await a.app.gate.pushToUids(['both'], 'Echo', { text: 'warm' }), { delivered: 2 })

    // Frozen: subscribed, but never answers within requestTimeout.
    other.proc.kill('SIGSTOP')
    assert.deepEqual(await a.app.gate.pushToUids(['both'], 'Echo', { text: 'frozen' }), { delivered: 1, partial: true, missingNodes: ['other'] })
    assert.deepEqual(await a.app.gate.broadcast('Echo', { text: 'frozen' }), { delivered: 1, partial: true, missingNodes: ['other'] })
    other.proc.kill('SIGCONT')
    await until(async () => (await a.app.gate.pushToUids(['both'], 'Echo', { text: 'thawed' })).partial === undefined, 5000, 'the node to answer again')

    // Killed: nobody is subscribed on its channel any more (a room push is asked of the nodes with members).
    other.proc.kill('SIGKILL')
    await other.exited
    const kicked = await a.app.gate.kick({ uids: ['nobody-here'], agents: ['other-1'] })
    assert.deepEqual(kicked, { kicked: 0, partial: true, missingNodes: ['other'] })
    assert.deepEqual(await a.app.gate.pushToRoom('any', 'Echo', { text: 'gone' }), { delivered: 0, partial: true, missingNodes: ['other'] })
  })
}
