/**
 * The dashboard's rooms views in headless Chromium: rooms paged with their
 * counts, a room's members (uid, connection, node, transport, protocol), an
 * empty room, and a user's rooms on the user page.
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { ensureBuilt } from './build.js'
import { connectAgent, registerTestMessages, startGate } from '../helper.js'
import { login, TOKENS } from '../routes/helper.js'
import { hasChromium, launch, openTab, textOf } from './browser.js'

/** The dashboard's page of rooms (ui/src/rooms.ts ROOMS_PAGE). */
const ROOMS_PAGE = 50
const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'

before(() => {
  if (!hasChromium) return
  ensureBuilt()
})

test('rooms paged with their counts, a room\'s members, and a user\'s rooms', { skip, timeout: 120_000 }, async (t) => {
  // No login deadline: the anonymous member stays however slow the run.
  const s = await startGate(t, { admin: { tokens: [...TOKENS], dashboard: true }, loginTimeout: 0 }, registerTestMessages)
  const alice = await login(s, 'ws', 'alice')
  const bob = await login(s, 'tcp', 'bob')
  const anon = await connectAgent(s, 'ws')
  for (const { agent } of [alice, bob, anon]) agent.join('lobby')
  alice.agent.join('kitchen')
  // More rooms than a page: 'r000'… sort after 'lobby'.
  for (let i = 0; i < ROOMS_PAGE; i++) bob.agent.join(`r${String(i).padStart(3, '0')}`)

  const tab = await openTab(await launch(t))
  const { page } = tab
  await page.goto(`${s.httpUrl}/gate/ui`)
  await page.fill('#token', TOKENS[0])
  await page.click('form button[type=submit]')
  await page.waitForSelector('[data-figure=connections]')

  await page.click('nav a[href="#/rooms"]')
  await textOf(page, '.rooms [data-range]', `1–${ROOMS_PAGE} of ${ROOMS_PAGE + 2}`)
  assert.deepEqual(await page.locator('[data-room-row=lobby] td').allTextContents(), ['lobby', '3', '2'])
  assert.deepEqual(await page.locator('[data-room-row=kitchen] td').allTextContents(), ['kitchen', '1', '1'])
  await page.click('.rooms button[name=next]')
  await textOf(page, '.rooms [data-range]', `${ROOMS_PAGE + 1}–${ROOMS_PAGE + 2} of ${ROOMS_PAGE + 2}`)
  assert.deepEqual(await page.locator('[data-room]').allTextContents(), ['r048', 'r049'])

  await page.goto(`${s.httpUrl}/gate/ui/#/rooms/lobby`)
  await textOf(page, '.room caption', '3 member connections')
  const rows = await page.locator('[data-member]').evaluateAll(trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent)))
  const expected = [alice, bob, anon].map(({ agent }) => [agent.uid ?? 'not logged in', agent.id, s.app.gate.nodeId, agent.transport, 'leaf'])
    .sort((a, b) => a[1]! < b[1]! ? -1 : 1)
  assert.deepEqual(rows, expected)

  await page.click('[data-member] a[data-uid=alice]')
  await textOf(page, `[data-agent="${alice.agent.id}"] [data-rooms]`, 'kitchen, lobby')
  await page.click(`[data-agent="${alice.agent.id}"] a[data-room=kitchen]`)
  await textOf(page, '.room caption', '1 member connection')

  alice.agent.leave('kitchen')
  await page.goto(`${s.httpUrl}/gate/ui/#/rooms/kitchen`)
  await textOf(page, '[data-empty]', 'kitchen has no member.')
  await page.goto(`${s.httpUrl}/gate/ui/#/rooms/%E0%A4%A`)
  await page.waitForSelector('[data-figure=connections]')
  assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
  assert.deepEqual(tab.errors.filter(e => !e.startsWith('Failed to load resource')), [], 'no script error')
})
