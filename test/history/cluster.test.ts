import assert from 'node:assert/strict'
import { test } from 'node:test'
import { until } from '../helper.js'
import { redisBackends, startRedis } from '../redis-helper.js'
import { ResumingClient, noRedis, range, spawnHistoryNode, startHistoryNode } from './app.js'

const backends = redisBackends()

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis}\n\n`)
const skip = noRedis

for (const kind of backends.kinds) {
  test(`${kind}: pushes from two nodes at once reach a tracking client in offset order, each once`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startHistoryNode(t, redis.option, 'a')
    const b = await startHistoryNode(t, redis.option, 'b')
    const alice = new ResumingClient()
    await alice.login(b.wsUrl, 'alice')
    await until(async () => (await a.app.gate.user('alice')) !== null, 5000, 'alice to be listed')
    const per = 150
    const pusher = async (node: typeof a, base: number): Promise<void> => {
      for (let i = 1; i <= per; i++) await node.app.gate.pushToUids(['alice'], 'Note', { text: 'x', n: base + i })
    }
    await Promise.all([pusher(a, 0), pusher(b, 1000)])
    await alice.until(2 * per)
    assert.deepEqual(alice.offsets, range(1, 2 * per))
    assert.deepEqual(alice.ns.filter(n => n < 1000), range(1, per))
    assert.deepEqual(alice.ns.filter(n => n > 1000), range(1001, 1000 + per))
    await alice.client.close()
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: the node holding the user is killed with SIGKILL mid-stream; the client resumes on the other node with no gap or duplicate`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startHistoryNode(t, redis.option, 'a')
    const doomed = await spawnHistoryNode(t, redis, 'doomed')
    const alice = new ResumingClient()
    await alice.login(doomed.wsUrl, 'alice')
    await until(async () => (await a.app.gate.user('alice')) !== null, 5000, 'alice to be listed')
    const total = 200
    let sent = 0
    const pushing = (async () => {
      while (sent < total) {
        await a.app.gate.pushToUids(['alice'], 'Note', { text: 'tick', n: ++sent })
        await new Promise(resolve => setTimeout(resolve, 1))
      }
    })()
    await until(() => sent >= 60, 30_000, 'pushes to go on')
    await alice.until(10)
    doomed.proc.kill('SIGKILL')
    await doomed.exited
    await alice.client.closed
    // Read whatever arrived before the socket died.
    while (alice.client.pending > 0) alice.take(await alice.client.next())
    const before = alice.notes.length
    // Pushes go on while alice is away: they are stored, delivered to nobody.
    const away = sent
    await until(() => sent >= away + 30, 5000, 'pushes while away')
    const w = await alice.login(a.wsUrl, 'alice')
    assert.equal(w.recovered, true)
    assert.ok((w.replayed as number) >= 30, `replayed ${w.replayed as number}`)
    await pushing
    await alice.until(total)
    t.diagnostic(`received ${before} before the kill, ${w.replayed as number} replayed on the other node, the rest live`)
    assert.deepEqual(alice.ns, range(1, total))
    assert.deepEqual(alice.offsets, range(1, total))
    await alice.client.close()
  })
}

test('cluster: Redis restarted empty: a new epoch, recovery incomplete, nothing replayed twice', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await startHistoryNode(t, redis.url, 'a')
  const alice = new ResumingClient()
  const bob = new ResumingClient()
  await alice.login(a.wsUrl, 'alice')
  await bob.login(a.wsUrl, 'bob')
  for (let n = 1; n <= 5; n++) await a.app.gate.pushToUids(['alice', 'bob'], 'Note', { text: 'before', n })
  await alice.until(5)
  await bob.until(5)
  const oldEpoch = alice.pos.split(':')[0]
  await bob.client.close()

  await redis.restart()
  await until(async () => await a.app.gate.stats().then(s => s.onlineUsers === 1 && s.partial !== true, () => false), 10000, 'the node to republish')
  for (let n = 6; n <= 8; n++) {
    const d = await a.app.gate.pushToUids(['alice', 'bob'], 'Note', { text: 'after', n })
    assert.equal(d.stored, 2)
  }
  // alice, connected through the restart, follows the new epoch live.
  await alice.until(8)
  assert.notEqual(alice.pos.split(':')[0], oldEpoch)
  assert.deepEqual(alice.offsets.slice(5), [1, 2, 3])

  // bob was away: his position is of the lost epoch. He is told, and gets the new stream once.
  const wb = await bob.login(a.wsUrl, 'bob')
  assert.deepEqual([wb.recovered, wb.replayed], [false, 3])
  assert.deepEqual(bob.ns, range(1, 8))

  // alice drops and resumes within the new epoch: complete, nothing twice.
  await alice.client.close()
  for (let n = 9; n <= 10; n++) await a.app.gate.pushToUids(['alice'], 'Note', { text: 'later', n })
  const wa = await alice.login(a.wsUrl, 'alice')
  assert.deepEqual([wa.recovered, wa.replayed], [true, 2])
  assert.deepEqual(alice.ns, range(1, 10))
  await Promise.all([alice.client.close(), bob.client.close()])
})

for (const kind of backends.kinds) {
  test(`${kind}: the streams in Redis are capped by count and expire with maxAge`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startHistoryNode(t, redis.option, 'a', { history: { maxCount: 3, maxAge: 1000 } })
    for (let n = 1; n <= 10; n++) await a.app.gate.pushToUids(['zed'], 'Note', { text: 'x', n })
    const raw = redis.raw(t)
    assert.equal(await raw.xlen('{gate:u:zed}:hist'), 3)
    const ttl = await raw.pttl('{gate:u:zed}:hist')
    assert.ok(ttl > 0 && ttl <= 1000, `the stream expires (pttl ${ttl})`)
    const zed = new ResumingClient()
    zed.pos = (await a.app.gate.history.store!.read('zed', 0, 0)).epoch + ':2'
    const w = await zed.login(a.wsUrl, 'zed')
    assert.deepEqual([w.recovered, w.replayed], [false, 3])
    assert.deepEqual(zed.ns, [8, 9, 10])
    await zed.client.close()
    await until(async () => await raw.exists('{gate:u:zed}:hist', '{gate:u:zed}:hmeta') === 0, 5000, 'the stream to expire')
  })
}

test('cluster: while Redis is unreachable, a push is delivered live without a position and not counted as stored', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await startHistoryNode(t, redis.url, 'a')
  const alice = new ResumingClient()
  await alice.login(a.wsUrl, 'alice')
  await a.app.gate.pushToUids(['alice'], 'Note', { text: 'x', n: 1 })
  await alice.until(1)
  const before = alice.pos
  await redis.stop()
  const d = await a.app.gate.pushToUids(['alice'], 'Note', { text: 'x', n: 2 })
  assert.deepEqual([d.delivered, d.stored, d.partial], [1, 0, true])
  await alice.until(2)
  assert.equal(alice.notes[1].body.gate_pos, undefined, 'no position')
  assert.equal(alice.pos, before, 'the client keeps its last position')
  await alice.client.close()
})

for (const kind of backends.kinds) {
  test(`${kind}: the appends of one event-loop turn go to Redis together (one script on a single Redis, one per uid on a Redis Cluster), each uid's offsets in call order`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    // No heartbeat during the count.
    const a = await startHistoryNode(t, redis.option, 'a', { cluster: { nodeTtl: 60000, heartbeat: 30000, requestTimeout: 500 } })
    const store = a.app.gate.history.store!
    const uids = Array.from({ length: 40 }, (_, i) => `batch-${i}`)
    // Loads the script on every master first (EVALSHA then finds it).
    await Promise.all(uids.map(async uid => await store.append(uid, 'Note', false, Buffer.from('{"text":"warm","n":0}'))))
    await redis.each('CONFIG', 'RESETSTAT')
    const calls: Array<Promise<{ epoch: string, offset: number }>> = []
    for (let round = 1; round <= 3; round++) for (const uid of uids) calls.push(store.append(uid, 'Note', false, Buffer.from(`{"text":"x","n":${round}}`)))
    const positions = await Promise.all(calls)
    const scripts = (await redis.each('INFO', 'commandstats')).reduce<number>((sum, info) =>
      sum + [...String(info).matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0), 0)
    t.diagnostic(`${calls.length} appends to ${uids.length} uids in one turn: ${scripts} script call(s)`)
    assert.equal(scripts, kind === 'redis' ? 1 : uids.length)
    uids.forEach((uid, i) => {
      assert.deepEqual([1, 2, 3].map(round => positions[(round - 1) * uids.length + i].offset), [2, 3, 4], `${uid}: offsets in call order`)
    })
    const read = await store.read('batch-7', 0, 10)
    assert.deepEqual(read.items.map(item => JSON.parse(item.payload.toString()).n), [0, 1, 2, 3])
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: a full stream drops just its excess: an append reads the entry it drops and the next, not the stream`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startHistoryNode(t, redis.option, 'a', { history: { maxCount: 50 }, cluster: { nodeTtl: 60000, heartbeat: 30000, requestTimeout: 500 } })
    const store = a.app.gate.history.store!
    for (let n = 1; n <= 60; n++) await store.append('full', 'Note', false, Buffer.from(`{"text":"x","n":${n}}`))
    await redis.each('CONFIG', 'RESETSTAT')
    for (let n = 61; n <= 80; n++) await store.append('full', 'Note', false, Buffer.from(`{"text":"x","n":${n}}`))
    const calls = new Map<string, number>()
    for (const info of await redis.each('INFO', 'commandstats')) {
      for (const m of String(info).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], (calls.get(m[1]) ?? 0) + Number(m[2]))
    }
    t.diagnostic(`20 appends to a full stream: ${[...calls].filter(([cmd]) => !['config', 'info'].includes(cmd)).map(([cmd, n]) => `${cmd} ${n}`).join(', ')}`)
    assert.deepEqual([calls.get('xrange'), calls.get('xdel'), calls.get('xadd')], [20, 20, 20], 'one read of two entries, one delete, per append')
    const r = await store.read('full', 0, 100)
    assert.deepEqual([r.first, r.last, r.items.length, JSON.parse(r.items[0].payload.toString()).n], [31, 80, 50, 31])
    const raw = redis.raw(t)
    assert.equal(Number(await raw.hget('{gate:u:full}:hmeta', 'b')), 256 + r.items.reduce((sum, item) => sum + 96 + item.name.length + item.payload.length, 0), 'the bytes kept exactly')
  })
}
