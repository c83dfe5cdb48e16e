/**
 * The demo page (examples/chat/demo) in headless Chromium: it loads the SDK
 * bundle from /gate/client.js, logs in, chats with a Node SDK client, survives
 * a server restart, and stops for good when kicked (4001).
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { until } from '../helper.js'
import { hasChromium, launch, openTab, textOf, type Tab } from '../dashboard/browser.js'
import { ensureClientBuilt } from './build.js'
import { chatOn, freePort, reach, sdkClient, sign, type Addresses } from './helper.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'

before(() => { if (hasChromium) ensureClientBuilt() })

async function say (tab: Tab, to: { uid?: string, room?: string }, content: string): Promise<void> {
  await tab.page.fill('#say input[name=to]', to.room !== undefined ? `#${to.room}` : to.uid ?? '')
  await tab.page.fill('#say input[name=content]', content)
  await tab.page.click('#say button[type=submit]')
}

/** Resolves once the page's log shows a message with that content. */
async function shown (tab: Tab, content: string): Promise<void> {
  await textOf(tab.page, `#log li[data-from][data-content="${content}"]`, new RegExp(content))
}

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: the demo page chats with a Node client, reconnects after a server restart, and stops when kicked`, { skip }, async (t) => {
    const port = await freePort()
    const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: await freePort() }
    let chat = await chatOn(t, encoding, port, at.tcp)
    const tab = await openTab(await launch(t))
    await tab.page.goto(`${at.http}/`)
    await tab.page.fill('#rooms input[name=rooms]', 'lobby')
    await tab.page.click('#rooms button[type=submit]')
    await tab.page.fill('#login input[name=uid]', 'alice')
    await tab.page.fill('#login input[name=token]', sign('alice'))
    await tab.page.click('#login button[type=submit]')
    await textOf(tab.page, '#status', 'connected as alice')

    const bob = await sdkClient(t, at, 'ws', 'bob', { reconnect: { initialDelay: 20, maxDelay: 100 } })
    await bob.connect()
    bob.send('C2S_Message', { to_uid: 'alice', content: 'hello alice' })
    await shown(tab, 'hello alice')
    bob.send('C2S_Message', { room: 'lobby', content: 'hello lobby' })
    await shown(tab, 'hello lobby')
    const got = bob.next('S2C_Message')
    await say(tab, { uid: 'bob' }, 'hi bob')
    assert.equal((await got).content, 'hi bob')

    // restart: the page reconnects, logs in again and rejoins its room
    await chat.app.close()
    await textOf(tab.page, '#status', /connection lost|connecting/)
    chat = await chatOn(t, encoding, port, at.tcp)
    await textOf(tab.page, '#status', 'connected as alice')
    await reach(bob, 'connected')
    bob.send('C2S_Message', { room: 'lobby', content: 'after the restart' })
    await shown(tab, 'after the restart')

    // kicked: 4001, and no reconnect
    const res = await fetch(`${at.http}/gate/kick`, { method: 'POST', headers: { authorization: 'Bearer admin', 'content-type': 'application/json' }, body: JSON.stringify({ uids: ['alice'], reason: 'bye' }) })
    assert.deepEqual(await res.json(), { kicked: 1 })
    await textOf(tab.page, '#status', /^disconnected: 4001 bye/)
    assert.equal(await tab.page.getAttribute('#status', 'data-code'), '4001')
    await until(async () => (await chat.app.gate.user('alice')) === null, 5000, 'alice offline')
    // a round trip later, the page has still not come back
    const echo = bob.next('C2S_UserHeartBeat')
    bob.send('C2S_UserHeartBeat', { ptime: 1 })
    await echo
    assert.equal(await chat.app.gate.user('alice'), null)
    assert.equal(await tab.page.getAttribute('#status', 'data-status'), 'disconnected')
    const scriptErrors = tab.errors.filter(e => !e.startsWith('Failed to load resource') && !/WebSocket connection to .* failed/.test(e))
    assert.deepEqual(scriptErrors, [])
    assert.deepEqual(tab.violations, [], 'no Content-Security-Policy violation')
  })
}

test('with the default token secret the page logs in with a dev token, without pasting one', { skip }, async (t) => {
  const chat = await chatOn(t, 'json', 0, 0, { GATE_TOKEN_SECRET: '' })
  const { port } = chat.app.server.address() as { port: number }
  const tab = await openTab(await launch(t))
  await tab.page.goto(`http://127.0.0.1:${port}/?uid=carol`)
  await tab.page.click('#login button[type=submit]')
  await textOf(tab.page, '#status', 'connected as carol')
  assert.deepEqual((await chat.app.gate.user('carol'))?.connections.length, 1)
})
