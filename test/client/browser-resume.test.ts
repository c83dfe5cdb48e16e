/**
 * Resume in headless Chromium: the demo page on a Redis-backed example gateway
 * gets the messages pushed to it while its gateway was restarting, and, after a
 * reload, those pushed while it was gone (its position is in sessionStorage).
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { until } from '../helper.js'
import { hasChromium, launch, openTab, textOf, type Tab } from '../dashboard/browser.js'
import { noRedis, range } from '../history/app.js'
import { startRedis } from '../redis-helper.js'
import { ensureClientBuilt } from './build.js'
import { chatOn, freePort, sign, type Addresses } from './helper.js'

if (hasChromium && noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/client/browser-resume.test.ts: the demo page's resume in Chromium)\n\n`)
const skip = !hasChromium ? 'chromium is missing (apt-get install chromium)' : noRedis

before(() => { if (hasChromium) ensureClientBuilt() })

async function pushTo (app: FastifyInstance, content: string): Promise<{ delivered: number, stored?: number }> {
  return await app.gate.pushToUids(['alice'], 'S2C_Message', { from_uid: 'bob', to_uid: 'alice', content, ts: Date.now() })
}

/** The contents of the messages in the page's log, in order. */
async function contents (tab: Tab): Promise<string[]> {
  return await tab.page.$$eval('#log li.message', lis => lis.map(li => (li as HTMLElement).dataset.content ?? ''))
}

async function logIn (tab: Tab): Promise<void> {
  await tab.page.fill('#login input[name=uid]', 'alice')
  await tab.page.fill('#login input[name=token]', sign('alice'))
  await tab.page.click('#login button[type=submit]')
  await textOf(tab.page, '#status', 'connected as alice')
}

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: the demo page gets, in order and once, what was pushed to it while its gateway restarted, and after a reload`, { skip }, async (t) => {
    const redis = await startRedis(t)
    const env = { REDIS_URL: redis.url }
    const port = await freePort()
    const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: await freePort() }
    const gateway = await chatOn(t, encoding, port, at.tcp, env)
    const other = await chatOn(t, encoding, 0, 0, env) // another node of the cluster: it pushes while the page's gateway is down
    const tab = await openTab(await launch(t))
    await tab.page.goto(`${at.http}/`)
    await logIn(tab)
    await textOf(tab.page, '#resume', 'new session')
    assert.match(await tab.page.getAttribute('#resume', 'data-position') ?? '', /^\S+:0$/)

    await pushTo(other.app, 'm1')
    await until(async () => (await contents(tab)).length === 1, 10000, 'm1 on the page')

    await gateway.app.close()
    await textOf(tab.page, '#status', /connection lost|connecting/)
    for (const n of range(2, 5)) assert.equal((await pushTo(other.app, `m${n}`)).stored, 1)
    await chatOn(t, encoding, port, at.tcp, env)
    await textOf(tab.page, '#status', 'connected as alice')
    await textOf(tab.page, '#resume', 'resumed: nothing lost, 4 missed messages delivered')
    assert.match(await tab.page.getAttribute('#resume', 'data-position') ?? '', /^\S+:5$/)
    assert.equal(await tab.page.getAttribute('#resume', 'data-recovered'), 'true')
    await pushTo(other.app, 'm6')
    await until(async () => (await contents(tab)).length >= 6, 10000, 'm6 on the page')
    assert.deepEqual(await contents(tab), range(1, 6).map(n => `m${n}`), 'in order, no gap, none twice')
    const replayed = await tab.page.$$eval('#log li.message', lis => lis.map(li => (li as HTMLElement).dataset.replayed))
    assert.deepEqual(replayed, ['false', 'true', 'true', 'true', 'true', 'false'], 'm2..m5 came with the resume, before connected')

    // A reload: the log is empty, the position is still in sessionStorage.
    await tab.page.reload()
    await until(async () => (await other.app.gate.user('alice')) === null, 10000, 'alice offline')
    for (const n of range(7, 8)) await pushTo(other.app, `m${n}`)
    await logIn(tab)
    await textOf(tab.page, '#resume', 'resumed: nothing lost, 2 missed messages delivered')
    assert.match(await tab.page.getAttribute('#resume', 'data-position') ?? '', /^\S+:8$/)
    assert.deepEqual(await contents(tab), ['m7', 'm8'], 'only what the page had not seen')
    const scriptErrors = tab.errors.filter(e => !e.startsWith('Failed to load resource') && !/WebSocket connection to .* failed/.test(e))
    assert.deepEqual(scriptErrors, [])
    assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
  })
}
