import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { until, type Started } from '../helper.js'
import { login, startAdmin, TOKENS } from '../routes/helper.js'
import { hasChromium, launch, openTab, textOf, type Tab } from './browser.js'
import { ensureBuilt } from './build.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'

before(() => { if (hasChromium) ensureBuilt() })

async function startDashboard (t: Parameters<typeof startAdmin>[0]): Promise<Started> {
  return await startAdmin(t, { admin: { tokens: [...TOKENS], dashboard: true } })
}

async function logIn (tab: Tab, s: Started, token: string): Promise<void> {
  await tab.page.goto(`${s.httpUrl}/gate/ui`)
  await tab.page.fill('#token', token)
  await tab.page.click('form button[type=submit]')
}

function assertClean (tab: Tab): void {
  assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
  // The browser logs every 4xx answer (a 404 for a uid that went offline); only script errors count.
  assert.deepEqual(tab.errors.filter(e => !e.startsWith('Failed to load resource')), [], 'no script error')
}

test('a wrong token shows an error and no data; nothing is kept', { skip }, async (t) => {
  const s = await startDashboard(t)
  await login(s, 'ws', 'alice')
  const tab = await openTab(await launch(t))
  await logIn(tab, s, 'not-the-token')
  assert.equal(await textOf(tab.page, '.login .error', 'Wrong admin token.'), 'Wrong admin token.')
  assert.equal(await tab.page.locator('[data-figure]').count(), 0, 'no figure shown')
  assert.equal(await tab.page.evaluate(() => sessionStorage.length), 0, 'the wrong token is not kept')
  assert.doesNotMatch(tab.page.url(), /token/, 'no token in the URL')
  assert.deepEqual(tab.violations, [])
})

test('the overview counts connections and users live, by node and transport', { skip }, async (t) => {
  const s = await startDashboard(t)
  const tab = await openTab(await launch(t))
  await logIn(tab, s, TOKENS[1])
  await textOf(tab.page, '[data-figure=connections]', '0')
  assert.equal(await tab.page.evaluate(() => sessionStorage.length), 1, 'the token is kept in sessionStorage')
  assert.doesNotMatch(tab.page.url(), /token/)

  await login(s, 'ws', 'alice')
  await login(s, 'tcp', 'bob')
  await login(s, 'ws', 'bob')
  await textOf(tab.page, '[data-figure=connections]', '3')
  await textOf(tab.page, '[data-figure=onlineUsers]', '2')
  await textOf(tab.page, '[data-figure=nodes]', '1')
  const row = `[data-node="${s.app.gate.nodeId}"]`
  await textOf(tab.page, `${row} td:nth-of-type(1)`, '2') // ws
  await textOf(tab.page, `${row} td:nth-of-type(2)`, '1') // tcp
  await textOf(tab.page, `${row} td:nth-of-type(3)`, 'leaf 3')
  assert.equal(await tab.page.locator('.chart canvas').count() >= 3, true, 'the uPlot charts are drawn')
  assertClean(tab)
})

test('kick from the page: the client gets 4001 with the typed reason, and closes count it', { skip }, async (t) => {
  const s = await startDashboard(t)
  const alice = await login(s, 'ws', 'alice')
  await login(s, 'ws', 'bob')
  const tab = await openTab(await launch(t))
  await logIn(tab, s, TOKENS[0])
  await textOf(tab.page, '[data-figure=connections]', '2')

  await tab.page.goto(`${s.httpUrl}/gate/ui/#/users/alice`)
  await textOf(tab.page, `[data-agent="${alice.agent.id}"] td:nth-of-type(3)`, 'ws')
  await tab.page.fill('form.kick input[name=reason]', 'bye from the dashboard')
  await tab.page.click('form.kick button[name=kick]')
  assert.deepEqual(await alice.client.closed, { code: 4001, reason: 'bye from the dashboard' })
  await textOf(tab.page, '[data-kick-result]', 'kicked 1 connection')
  await textOf(tab.page, '[data-offline]', 'alice is not online.')

  await tab.page.click('nav a[href="#/"]')
  await textOf(tab.page, '[data-close="4001"] td:nth-of-type(3)', '1')
  await textOf(tab.page, '[data-figure=connections]', '1')
  assertClean(tab)
})

test('push a message from the page: the body is checked against its schema, then it arrives', { skip }, async (t) => {
  const s = await startDashboard(t)
  const bob = await login(s, 'tcp', 'bob')
  const tab = await openTab(await launch(t))
  await logIn(tab, s, TOKENS[0])
  await tab.page.waitForSelector('[data-figure=connections]')
  await tab.page.goto(`${s.httpUrl}/gate/ui/#/users/bob`)

  const form = tab.page.locator('.user .message-form')
  await form.locator('select[name=name]').selectOption('Echo')
  await form.locator('textarea[name=body]').fill('{"text": 5}')
  await textOf(tab.page, '.user .message-form .problems li', /\/text/)
  assert.equal(await form.locator('button[type=submit]').isDisabled(), true, 'a body that fails the schema cannot be sent')
  await form.locator('textarea[name=body]').fill('{"text": "hello from the dashboard"}')
  assert.equal(await form.locator('.problems').count(), 0)
  await form.locator('button[type=submit]').click()
  assert.deepEqual(await bob.client.next(), { name: 'Echo', body: { text: 'hello from the dashboard' } })
  await textOf(tab.page, '.user .message-form .result', 'delivered to 1 connection')

  // A broadcast asks first, and sends only once confirmed.
  await tab.page.click('nav a[href="#/actions"]')
  const cast = tab.page.locator('[data-action=broadcast] .message-form')
  // The form is ready once it lists the messages (it picks the first, Echo).
  await cast.locator('select[name=name] option', { hasText: 'Echo' }).waitFor({ state: 'attached' })
  await cast.locator('textarea[name=body]').fill('{"text": "to everyone"}')
  assert.equal(await cast.locator('.problems').count(), 0, 'the body fits the picked message')
  await cast.locator('button[type=submit]').click()
  await textOf(tab.page, '[data-action=broadcast] .confirm', /every connection/)
  await cast.locator('button[name=confirm]').click()
  assert.deepEqual(await bob.client.next(), { name: 'Echo', body: { text: 'to everyone' } })
  await textOf(tab.page, '[data-action=broadcast] .result', 'delivered to 1 connection')
  assertClean(tab)
})

test('users are paged and searched on the server', { skip }, async (t) => {
  const s = await startDashboard(t)
  const uids = Array.from({ length: 57 }, (_, i) => `user-${String(i).padStart(3, '0')}`)
  for (const uid of uids) await login(s, 'ws', uid)
  await until(() => s.app.gate.local.onlineUsers === uids.length, 5000, 'every login')
  const tab = await openTab(await launch(t))
  await logIn(tab, s, TOKENS[0])
  await tab.page.waitForSelector('[data-figure=connections]')
  await tab.page.click('nav a[href="#/users"]')

  await textOf(tab.page, '[data-range]', '1–50 of 57')
  assert.equal(await tab.page.locator('[data-uid]').count(), 50)
  assert.equal(await tab.page.locator('[data-uid]').first().textContent(), 'user-000')
  await tab.page.click('button[name=next]')
  await textOf(tab.page, '[data-range]', '51–57 of 57')
  assert.deepEqual(await tab.page.locator('[data-uid]').allTextContents(), uids.slice(50))
  assert.equal(await tab.page.locator('button[name=next]').isDisabled(), true)
  await tab.page.click('button[name=previous]')
  await textOf(tab.page, '[data-range]', '1–50 of 57')

  await tab.page.fill('input[name=prefix]', 'user-04')
  await textOf(tab.page, '[data-range]', '1–10 of 10')
  assert.deepEqual(await tab.page.locator('[data-uid]').allTextContents(), uids.slice(40, 50))
  await tab.page.click('[data-uid="user-042"]')
  await textOf(tab.page, '[data-user]', 'user-042')
  await textOf(tab.page, '.connections caption', /^1 connection;/)
  assertClean(tab)
})
