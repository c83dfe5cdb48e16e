/**
 * Issue 21, attack 3, in cluster mode: history in Redis had no total bound
 * (`used_memory` 1.5 → 192 MB in 30 s; `maxStreams` bounded a single node
 * only). Now each node keeps the streams it writes within `history.maxBytes`,
 * evicting those of uids that never logged in first, so a flood to made-up
 * uids evicts its own kind and alice keeps her unread messages. On a private
 * Redis and a private Redis Cluster; the figures are Redis's own (the `b` of
 * every stream's meta).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RedisHistoryStore } from '../../src/cluster/history-store.js'
import { until } from '../helper.js'
import { redisBackends, type RedisBackend } from '../redis-helper.js'
import { burst, sign, startChat } from './chat.js'

const backends = redisBackends()

/** Bytes every history stream in Redis holds, by their metas, and how many streams there are. */
async function heldInRedis (t: Parameters<RedisBackend['raw']>[0], redis: RedisBackend): Promise<{ bytes: number, streams: number }> {
  const metas = await redis.keys('*:hmeta')
  const raw = redis.raw(t)
  let bytes = 0
  for (let i = 0; i < metas.length; i += 500) {
    const got = await Promise.all(metas.slice(i, i + 500).map(async k => await raw.hget(k, 'b')))
    for (const b of got) bytes += Number(b ?? 0)
  }
  return { bytes, streams: (await redis.keys('*:hist')).length }
}

for (const kind of backends.kinds) {
  test(`${kind}: a flood to made-up uids stays within the node's byte bound in Redis, and alice keeps her 5 unread messages`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const maxBytes = 1024 * 1024
    const chat = await startChat(t, { ...redis.env, GATE_HISTORY_MAX_BYTES: String(maxBytes), GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0' })
    const store = chat.app.gate.history.store as RedisHistoryStore

    const alice = await chat.tcp()
    alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1, resume_pos: '' })
    const pos = (await alice.nextOf('S2C_UserLogin')).body.gate_pos as string
    await alice.close()
    const { client: bob } = await chat.user('bob')
    for (let i = 0; i < 5; i++) bob.send('C2S_Message', { to_uid: 'alice', content: `unread ${i}` })

    // 5,000 messages of ~500 bytes to 5,000 made-up uids: about 2.5 MB for a 1 MiB bound
    // (content within the example's limit, CONTENT_MAX_LENGTH 468: a longer one closes her with 1007).
    const { client: mallory, agent } = await chat.user('mallory')
    mallory.sendRaw(burst(5000, i => ({ to_uid: `ghost-${i}`, content: 'm'.repeat(460) })))
    let most = 0
    while (agent.isOpen && (agent.msgsIn < 5000 || chat.app.gate.dispatch.busy(agent))) {
      most = Math.max(most, store.bytes)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    assert.equal(agent.msgsIn, 5001, 'her login and every message of the flood read (a refused one closes the connection)')
    // The evictions the last appends started are done once Redis holds the bound.
    let held = { bytes: 0, streams: 0 }
    await until(async () => (held = await heldInRedis(t, redis)).bytes <= maxBytes, 20000, 'Redis to hold the bound')
    t.diagnostic(`${kind}: 5,000 messages to made-up uids: the node counted at most ${most} B (bound ${maxBytes}); Redis holds ${held.bytes} B in ${held.streams} streams; ${store.evicted} evicted`)
    assert.ok(most <= maxBytes + 4096, `the node's count stayed within the bound (${most})`)
    assert.ok(store.evicted > 0)

    const back = await chat.tcp()
    back.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1, resume_pos: pos })
    const replayed = []
    for (let i = 0; i < 5; i++) replayed.push((await back.nextOf('S2C_Message')).body.content)
    assert.deepEqual(replayed, [0, 1, 2, 3, 4].map(i => `unread ${i}`))
    assert.equal((await back.nextOf('S2C_UserLogin')).body.recovered, true)
  })
}
