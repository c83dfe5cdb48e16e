/**
 * The SDK's subscribe in headless Chromium, through the demo page: rooms are
 * subscriptions with the server's permission (the example's canJoin refuses
 * another uid's private room: a coded error, the page stays connected), they
 * are subscribed again after a server restart, and who is online comes from a
 * request (C2S_Online).
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { hasChromium, launch, openTab, textOf } from '../dashboard/browser.js'
import { ensureClientBuilt } from './build.js'
import { chatOn, freePort, reach, sdkClient, sign, type Addresses } from './helper.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'

before(() => { if (hasChromium) ensureClientBuilt() })

test('Chromium: subscribe with the server\'s permission, a refused room, re-subscribed after a restart, online by request', { skip }, async (t) => {
  const port = await freePort()
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: await freePort() }
  let chat = await chatOn(t, 'json', port, at.tcp)
  const tab = await openTab(await launch(t))
  await tab.page.goto(`${at.http}/`)
  await tab.page.fill('#rooms input[name=rooms]', 'lobby, private:alice, private:bob')
  await tab.page.click('#rooms button[type=submit]')
  await tab.page.fill('#login input[name=uid]', 'alice')
  await tab.page.fill('#login input[name=token]', sign('alice'))
  await tab.page.click('#login button[type=submit]')
  await textOf(tab.page, '#status', 'connected as alice')
  await textOf(tab.page, '#error', /private:bob.*NOT_ALLOWED/)
  await textOf(tab.page, '#watching', 'in #lobby, #private:alice')
  const [agent] = chat.app.gate.agentsOf('alice')
  assert.deepEqual([...agent.rooms].sort(), ['lobby', 'private:alice'])
  assert.equal(await tab.page.getAttribute('#status', 'data-status'), 'connected', 'a refusal is not a close')

  const bob = await sdkClient(t, at, 'ws', 'bob', { reconnect: { initialDelay: 20, maxDelay: 100 } })
  await bob.connect()
  // The online list is the answer to C2S_Online (refreshed on a timer and after a message to a uid).
  bob.send('C2S_Message', { room: 'lobby', content: 'hello lobby' })
  await textOf(tab.page, '#log li[data-from][data-content="hello lobby"]', /hello lobby/)
  await tab.page.fill('#say input[name=to]', 'bob')
  await tab.page.fill('#say input[name=content]', 'hi bob')
  await tab.page.click('#say button[type=submit]')
  await textOf(tab.page, '#online', /bob/)

  await chat.app.close()
  await textOf(tab.page, '#status', /connection lost|connecting/)
  chat = await chatOn(t, 'json', port, at.tcp)
  await textOf(tab.page, '#status', 'connected as alice')
  const [again] = chat.app.gate.agentsOf('alice')
  assert.deepEqual([...again.rooms].sort(), ['lobby', 'private:alice'], 'subscribed again before the page saw connected')
  await reach(bob, 'connected')
  bob.send('C2S_Message', { room: 'lobby', content: 'after the restart' })
  await textOf(tab.page, '#log li[data-from][data-content="after the restart"]', /after the restart/)
  const scriptErrors = tab.errors.filter(e => !e.startsWith('Failed to load resource') && !/WebSocket connection to .* failed/.test(e))
  assert.deepEqual(scriptErrors, [])
  assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
})
