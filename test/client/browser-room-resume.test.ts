/**
 * Room resume in headless Chromium: the demo page, in #lobby on a
 * Redis-backed example gateway, gets the room messages another node pushed
 * while its gateway restarted, once, in order, and says so in words; and,
 * after a reload, those pushed while it was gone (its room position is in
 * sessionStorage with its uid position: `resume.store`).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { until } from '../helper.js'
import { hasChromium, launch, openTab, textOf, type Tab } from '../dashboard/browser.js'
import { noRedis, range } from '../history/app.js'
import { startRedis } from '../redis-helper.js'
import { ensureClientBuilt } from './build.js'
import { chatOn, freePort, sign, type Addresses } from './helper.js'

if (hasChromium && noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/client/browser-room-resume.test.ts: the demo page's room resume in Chromium)\n\n`)
/** Where a screenshot of the page after the reload's resume goes, when set (as test/client/demo-page.test.ts). */
const shots = process.env.DEMO_SCREENSHOTS
const skip = !hasChromium ? 'chromium is missing (apt-get install chromium)' : noRedis

before(() => { if (hasChromium) ensureClientBuilt() })

async function say (app: FastifyInstance, content: string): Promise<{ delivered: number, stored?: number }> {
  return await app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'bob', room: 'lobby', content, ts: Date.now() })
}

/** The contents of the room messages in the page's log, in order, and whether each came with the resume. */
async function roomLog (tab: Tab): Promise<Array<[string, string]>> {
  return await tab.page.$$eval('#log li.message[data-room=lobby]', lis => lis.map(li => [(li as HTMLElement).dataset.content ?? '', (li as HTMLElement).dataset.replayed ?? ''] as [string, string]))
}

async function logIn (tab: Tab): Promise<void> {
  await tab.page.fill('#login input[name=uid]', 'alice')
  await tab.page.fill('#login input[name=token]', sign('alice'))
  await tab.page.click('#login button[type=submit]')
  await textOf(tab.page, '#status', 'connected as alice')
}

test('the demo page gets, in order and once, what #lobby said while its gateway restarted and while it reloaded, and says the room resumed', { skip, timeout: 60_000 }, async (t) => {
  const redis = await startRedis(t)
  const env = { REDIS_URL: redis.url }
  const port = await freePort()
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: await freePort() }
  const gateway = await chatOn(t, 'json', port, at.tcp, env)
  const other = await chatOn(t, 'json', 0, 0, env) // another node: bob talks in #lobby through it
  const tab = await openTab(await launch(t))
  await tab.page.goto(`${at.http}/`)
  await logIn(tab)
  await textOf(tab.page, '#watching', 'in #lobby')
  await until(async () => (await other.app.gate.room('lobby'))?.total === 1, 10000, 'alice listed in #lobby')

  await say(other.app, 'r1')
  await until(async () => (await roomLog(tab)).length === 1, 10000, 'r1 on the page')

  await gateway.app.close()
  await textOf(tab.page, '#status', /connection lost|connecting/)
  for (const n of range(2, 4)) assert.deepEqual(await say(other.app, `r${n}`), { delivered: 0, stored: 1 }, 'kept, delivered to nobody')
  await chatOn(t, 'json', port, at.tcp, env)
  await textOf(tab.page, '#status', 'connected as alice')
  await textOf(tab.page, '#room-resume', '#lobby resumed: nothing lost, 3 missed messages delivered')
  assert.equal(await tab.page.getAttribute('#room-resume', 'data-recovered'), 'true')
  assert.equal((await textOf(tab.page, '#resume', /^resumed: /)), 'resumed: nothing lost', 'the uid\'s own resume counts no room message')
  await say(other.app, 'r5')
  await until(async () => (await roomLog(tab)).length >= 5, 10000, 'r5 on the page')
  assert.deepEqual(await roomLog(tab), [['r1', 'false'], ['r2', 'true'], ['r3', 'true'], ['r4', 'true'], ['r5', 'false']],
    'in order, none lost, none twice; r2..r4 came with the room\'s resume, before connected')

  // A reload: the log is empty, the room position is still in sessionStorage.
  await tab.page.reload()
  await until(async () => ((await other.app.gate.room('lobby'))?.total ?? 0) === 0, 10000, 'alice gone from #lobby')
  for (const n of range(6, 7)) assert.deepEqual(await say(other.app, `r${n}`), { delivered: 0, stored: 1 }, 'kept, delivered to nobody')
  await logIn(tab)
  await textOf(tab.page, '#room-resume', '#lobby resumed: nothing lost, 2 missed messages delivered')
  assert.equal((await textOf(tab.page, '#resume', /^resumed: /)), 'resumed: nothing lost')
  await say(other.app, 'r8')
  await until(async () => (await roomLog(tab)).length >= 3, 10000, 'r8 on the page')
  assert.deepEqual(await roomLog(tab), [['r6', 'true'], ['r7', 'true'], ['r8', 'false']], 'only what the page had not seen, in order, once')
  if (shots !== undefined) await tab.page.screenshot({ path: join(shots, 'demo-room-resume.png'), fullPage: true })
  const scriptErrors = tab.errors.filter(e => !e.startsWith('Failed to load resource') && !/WebSocket connection to .* failed/.test(e))
  assert.deepEqual(scriptErrors, [])
  assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
})
