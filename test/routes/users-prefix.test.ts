import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { Started } from '../helper.js'
import { until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { assertError, call, login, ok, startAdmin } from './helper.js'

const UIDS = ['ann', 'anna', 'annette', 'anne/x', 'bob', 'an', 'zoe', 'annéa']

/** Every uid that starts with `prefix`, in the order the pages give them, page by page of `limit`. */
async function pages (s: Started, prefix: string, limit: number): Promise<{ totals: Set<number>, uids: string[] }> {
  const totals = new Set<number>()
  const uids: string[] = []
  for (let offset = 0; offset < 20; offset += limit) {
    const page = await ok(s, { url: `/gate/users?prefix=${encodeURIComponent(prefix)}&offset=${offset}&limit=${limit}` })
    totals.add(page.total)
    uids.push(...page.items.map((i: { uid: string }) => i.uid))
    if (page.items.length < limit) break
  }
  return { totals, uids }
}

async function assertPrefixPaging (s: Started): Promise<void> {
  const all = (await ok(s, { url: '/gate/users' })).items.map((i: { uid: string }) => i.uid) as string[]
  for (const prefix of ['ann', 'anne', 'an', 'annea', 'annéa', 'b', 'x', '']) {
    const expected = all.filter(uid => uid.startsWith(prefix))
    for (const limit of [1, 2, 100]) {
      const { totals, uids } = await pages(s, prefix, limit)
      assert.deepEqual([...totals], [expected.length], `total for "${prefix}"`)
      assert.deepEqual(uids, expected, `pages of ${limit} for "${prefix}", in the order of the full list`)
    }
  }
  const page = await ok(s, { url: '/gate/users?prefix=ann&offset=1&limit=2' })
  assert.deepEqual(page, { total: 5, offset: 1, limit: 2, items: page.items })
  assert.equal(page.items.length, 2)
  assert.deepEqual(await ok(s, { url: '/gate/users?prefix=ann&offset=9' }), { total: 5, offset: 9, limit: 100, items: [] })
  assertError(await call(s, { url: `/gate/users?prefix=${'a'.repeat(257)}` }), 400, 'FST_ERR_VALIDATION')
}

async function loginAll (s: Started[]): Promise<void> {
  for (const [i, uid] of UIDS.entries()) await login(s[i % s.length], i % 2 === 0 ? 'ws' : 'tcp', uid)
}

test('GET /gate/users?prefix= pages through the uids that start with it (local)', async (t: TestContext) => {
  const s = await startAdmin(t)
  await loginAll([s])
  await assertPrefixPaging(s)
})

test('GET /gate/users?prefix= pages through the uids that start with it, across nodes (Redis)', async (t: TestContext) => {
  const redis = await startRedis(t)
  const a = await startAdmin(t, { redis: redis.url, nodeId: 'node-a' })
  const b = await startAdmin(t, { redis: redis.url, nodeId: 'node-b' })
  await loginAll([a, b])
  await until(async () => (await ok(a, { url: '/gate/users' })).total === UIDS.length, 5000, 'every uid to be listed')
  await assertPrefixPaging(a)
  await assertPrefixPaging(b)
})
