/**
 * The dashboard's views in headless Chromium: push targets are the messages the
 * server sends; pushes and kicks say what happened to each uid; a user's
 * history, offline users too; users sorted and filtered by node, transport and
 * protocol; node rows sorted (a two-node cluster on a private Redis); nothing wider than the window at 390 and 1,280 px, on every view
 * (screenshots are written to $DASHBOARD_SCREENSHOTS when set).
 */
import { Type } from '@sinclair/typebox'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { before, test, type TestContext } from 'node:test'
import { ensureBuilt } from './build.js'
import type { Page } from 'playwright-core'
import { login as clusterLogin, startNode } from '../fixtures/cluster-app.js'
import { registerTestMessages, startGate, until, type Started } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { login, TOKENS } from '../routes/helper.js'
import { hasChromium, launch, openTab, textOf, type Tab } from './browser.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'
const shots = process.env.DASHBOARD_SCREENSHOTS

// Built once by npm test's pretest; a rebuild here would delete dist/ui (and the
// client bundle in it) under the test files running meanwhile.
before(() => {
  if (!hasChromium) return
  ensureBuilt()
})

/** The test messages (Echo and Login have handlers) and Notice, which only the server sends, kept in history. */
async function start (t: TestContext): Promise<Started> {
  return await startGate(t, { admin: { tokens: [...TOKENS], dashboard: true } }, app => {
    registerTestMessages(app)
    app.gate.message('Notice', { schema: Type.Object({ text: Type.String() }), history: true })
  })
}

async function open (t: TestContext, s: Started): Promise<Tab> {
  const tab = await openTab(await launch(t))
  await tab.page.goto(`${s.httpUrl}/gate/ui`)
  await tab.page.fill('#token', TOKENS[0])
  await tab.page.click('form button[type=submit]')
  await tab.page.waitForSelector('[data-figure=connections]')
  return tab
}

async function assertNoOverflow (page: Page, what: string): Promise<void> {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }))
  assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide in a ${inner} px window`)
}

function assertClean (tab: Tab): void {
  assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
  assert.deepEqual(tab.errors.filter(e => !e.startsWith('Failed to load resource')), [], 'no script error')
}

test('push targets, per-uid results, and a user\'s history (offline users too)', { skip, timeout: 120_000 }, async (t) => {
  const s = await start(t)
  const alice = await login(s, 'ws', 'alice')
  const bob = await login(s, 'tcp', 'bob')
  const tab = await open(t, s)
  const { page } = tab

  await page.click('nav a[href="#/actions"]')
  const push = page.locator('[data-action=push]')
  await push.locator('select[name=name] option', { hasText: 'Notice' }).waitFor({ state: 'attached' })
  assert.deepEqual(await push.locator('select[name=name] option').allTextContents(), ['Notice'], 'only what the server sends')

  await push.locator('input[name=uids]').fill('alice, carol')
  await push.locator('textarea[name=body]').fill('{"text": "hello"}')
  await push.locator('button[type=submit]').click()
  await textOf(page, '[data-action=push] [data-result-uid=alice]', 'alice: delivered to 1 connection')
  await textOf(page, '[data-action=push] [data-result-uid=carol]', 'carol: not online: nothing delivered, kept in its history')
  assert.deepEqual(await alice.client.next(), { name: 'Notice', body: { text: 'hello' } })

  const kick = page.locator('[data-action=kick]')
  await kick.locator('input[name=uids]').fill('bob carol')
  await kick.locator('button[type=submit]').click()
  await textOf(page, '[data-action=kick] [data-result-uid=bob]', 'bob: kicked 1 connection')
  await textOf(page, '[data-action=kick] [data-result-uid=carol]', 'carol: not online: nothing kicked')
  await bob.client.closed // TCP: no close code; the socket is ended
  assert.equal(await s.app.gate.user('bob'), null)

  // alice's history, then carol's, who was never online.
  await page.goto(`${s.httpUrl}/gate/ui/#/users/alice`)
  await textOf(page, '.history [data-offset="1"] td:nth-of-type(3)', 'Notice')
  assert.equal(await page.textContent('.history [data-offset="1"] code'), '{"text":"hello"}')
  await page.goto(`${s.httpUrl}/gate/ui/#/users/carol`)
  await textOf(page, '[data-offline]', 'carol is not online.')
  await textOf(page, '.history [data-offset="1"] code', '{"text":"hello"}')
  await textOf(page, '[data-history-range]', /1 of 1 kept/)
  assertClean(tab)
})

test('users sorted and filtered by node, transport and protocol; every view fits 390 and 1280 px', { skip, timeout: 120_000 }, async (t) => {
  const s = await start(t)
  await login(s, 'ws', 'alice')
  await login(s, 'tcp', 'bob')
  await login(s, 'ws', 'dave')
  await login(s, 'tcp', 'dave')
  await until(() => s.app.gate.local.onlineUsers === 3, 5000, 'every login')
  await s.app.gate.pushToUids(['alice'], 'Notice', { text: 'a notice with a long body: ' + 'x'.repeat(300) })
  const tab = await open(t, s)
  const { page } = tab

  await page.click('nav a[href="#/users"]')
  await textOf(page, '[data-row=dave] td:nth-of-type(4)', 'tcp, ws')
  const uids = async (): Promise<string[]> => await page.locator('[data-uid]').allTextContents()
  assert.deepEqual(await uids(), ['alice', 'bob', 'dave'])
  await page.selectOption('select[name=filter-transports]', 'tcp')
  await until(async () => (await uids()).join() === 'bob,dave', 5000, 'the tcp filter')
  await page.selectOption('select[name=filter-transports]', '')
  await page.selectOption('select[name=filter-protocols]', 'leaf')
  await until(async () => (await uids()).length === 3, 5000, 'every connection speaks leaf')
  await page.click('button[name=sort-connections]')
  await page.click('button[name=sort-connections]')
  await until(async () => (await uids())[0] === 'dave', 5000, 'most connections first')
  assert.equal(await page.getAttribute('th[aria-sort=descending] button', 'name'), 'sort-connections')

  const views: Array<[string, string]> = [['overview', '#/'], ['users', '#/users'], ['user', '#/users/alice'], ['actions', '#/actions']]
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    for (const [name, hash] of views) {
      await page.goto(`${s.httpUrl}/gate/ui/${hash}`)
      await page.waitForSelector(name === 'overview' ? '.chart canvas' : name === 'users' ? '[data-row]' : name === 'user' ? '.history [data-offset]' : '[data-action=kick]')
      await assertNoOverflow(page, `${name} at ${width} px`)
      if (name === 'overview') {
        // One or a few samples: the time axis spans about a minute, not years (uPlot's default for one point).
        const spans = (await page.locator('.chart').evaluateAll(els => els.map(e => Number((e as HTMLElement).dataset.xSpan)))).filter(n => n > 0)
        assert.ok(spans.length >= 3 && spans.every(n => n <= 3600), `time axes span ${spans.join(', ')} s`)
      }
      if (shots !== undefined) {
        mkdirSync(shots, { recursive: true })
        await page.screenshot({ path: join(shots, `dashboard-${name}-${width}.png`), fullPage: true })
      }
    }
  }
  assertClean(tab)
})

test('cluster: node rows sorted by node id; users filtered by node', { skip, timeout: 120_000 }, async (t) => {
  const redis = await startRedis(t)
  // The dashboard asks node "n-b", which the API lists first.
  const b = await startNode(t, redis.url, 'n-b', { admin: { tokens: [...TOKENS], dashboard: true } })
  const a = await startNode(t, redis.url, 'n-a', { admin: { tokens: [...TOKENS], dashboard: true } }) // a node without the dashboard has no figures
  const alice = await clusterLogin(a.wsUrl, 'alice')
  const bob = await clusterLogin(b.wsUrl, 'bob')
  t.after(async () => { await alice.close(); await bob.close() })
  const tab = await open(t, b)
  const { page } = tab
  await textOf(page, '[data-figure=nodes]', '2')
  await until(async () => (await page.locator('table.nodes tbody tr').count()) === 2, 10_000, 'both nodes\' rows')
  assert.deepEqual(await page.locator('table.nodes tbody th').allTextContents(), ['n-a', 'n-b'])

  await page.click('nav a[href="#/users"]')
  await textOf(page, '[data-row=alice] td:nth-of-type(3)', 'n-a')
  await page.selectOption('select[name=filter-nodes]', 'n-b')
  await until(async () => (await page.locator('[data-uid]').allTextContents()).join() === 'bob', 5000, 'the node filter')
  assertClean(tab)
})
