/**
 * The demo page (examples/chat/demo) as a small chat, in headless Chromium: two
 * tabs of one browser default to two uids; an empty uid shows the token route's
 * real 400; rooms are joined at login; room messages come back as delivered,
 * uid messages say whether the receiver is online; the online list, timestamps,
 * resume in words; the server's limits are enforced before sending (nothing is
 * shown as sent that was not, the connection stays open); an admin push without
 * `to_uid` reads "to you"; and nothing overflows at 390 and 1,280 px (screenshots
 * are written to $DEMO_SCREENSHOTS when set).
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { CONTENT_MAX_LENGTH } from '../../examples/chat/messages.js'
import { hasChromium, launch, textOf } from '../dashboard/browser.js'
import { ensureClientBuilt } from './build.js'
import { chatOn } from './helper.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'
const shots = process.env.DEMO_SCREENSHOTS

before(() => { if (hasChromium) ensureClientBuilt() })

async function send (page: Page, to: string, content: string): Promise<void> {
  await page.fill('#say input[name=to]', to)
  await page.fill('#say input[name=content]', content)
  await page.click('#say button[type=submit]')
}

/** Neither the page nor any element is wider than the window. */
async function assertNoOverflow (page: Page, what: string): Promise<void> {
  const { scroll, inner, wide } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    wide: [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5).map(el => `${el.tagName}#${el.id}.${el.className}`)
  }))
  assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide in a ${inner} px window`)
  assert.deepEqual(wide, [], `${what}: elements past the right edge`)
}

test('the demo page is a small chat: two tabs, rooms, online list, feedback, limits, no overflow', { skip, timeout: 120_000 }, async (t) => {
  const chat = await chatOn(t, 'json', 0, 0, { GATE_TOKEN_SECRET: '' })
  const { port } = chat.app.server.address() as { port: number }
  const url = `http://127.0.0.1:${port}/`
  const browser = await launch(t)
  const context = await browser.newContext()
  const errors: string[] = []
  const a = await context.newPage()
  const b = await context.newPage()
  for (const p of [a, b]) p.on('pageerror', err => errors.push(err.message))
  await a.goto(url)
  await b.goto(url)

  // A second tab does not pretend to be the first user.
  assert.equal(await a.inputValue('#login input[name=uid]'), 'alice')
  assert.equal(await b.inputValue('#login input[name=uid]'), 'bob')

  // An empty uid: the token route's real answer, not a missing route.
  await a.fill('#login input[name=uid]', '')
  await a.click('#login button[type=submit]')
  await textOf(a, '#error', /refused uid "": 400 .*uid/)

  await a.fill('#login input[name=uid]', 'alice')
  await a.click('#login button[type=submit]')
  await textOf(a, '#status', 'connected as alice')
  await textOf(a, '#watching', 'in #lobby')
  assert.equal(await a.isHidden('#error'), true, 'the error is gone once connected')
  await textOf(a, '#resume', 'new session')
  await b.click('#login button[type=submit]')
  await textOf(b, '#status', 'connected as bob')

  // The online list (refreshed on a timer and after a send).
  await textOf(a, '#online', /bob/)
  await textOf(b, '#online-total', '(2)')

  // A room message: shown on the other tab with its time, and delivered on the sender's.
  await send(b, '#lobby', 'hello room')
  await textOf(a, '#log li[data-from=bob][data-room=lobby] .text', 'hello room')
  assert.match(await a.getAttribute('#log li[data-from=bob] time', 'datetime') ?? '', /^\d{4}-\d\d-\d\dT/)
  await textOf(b, '#log li.mine[data-content="hello room"] .note', 'delivered to #lobby')
  assert.equal(await b.locator('#log li[data-content="hello room"]').count(), 1, 'the copy coming back is not shown twice')

  // To a uid: online, then offline.
  await send(a, 'bob', 'hi bob')
  await textOf(b, '#log li[data-from=alice] .where', 'to you')
  await textOf(a, '#log li.mine[data-content="hi bob"] .note', 'delivered: bob is online')
  await send(a, 'nobody', 'are you there')
  await textOf(a, '#log li.mine[data-content="are you there"]', /nobody is offline/)

  // The server's limit, enforced in the page: the box takes no more, and a longer value is not sent.
  assert.equal(await a.getAttribute('#say input[name=content]', 'maxlength'), String(CONTENT_MAX_LENGTH))
  const tooLong = 'y'.repeat(CONTENT_MAX_LENGTH + 6)
  await a.fill('#say input[name=to]', 'bob')
  await a.evaluate((v) => { (document.querySelector('#say input[name=content]') as HTMLInputElement).value = v }, tooLong)
  await a.click('#say button[type=submit]')
  await textOf(a, '#error', `Not sent: ${CONTENT_MAX_LENGTH + 6} characters, the server takes at most ${CONTENT_MAX_LENGTH}.`)
  assert.equal(await a.locator(`#log li[data-content="${tooLong}"]`).count(), 0, 'not shown as sent')
  const longest = 'z'.repeat(CONTENT_MAX_LENGTH)
  await send(a, 'bob', longest)
  await textOf(b, `#log li[data-from=alice][data-content="${longest}"] .text`, longest)
  assert.equal(await a.getAttribute('#status', 'data-status'), 'connected', 'the connection stayed open')

  // An admin push without to_uid or room.
  const res = await fetch(`${url}gate/push`, { method: 'POST', headers: { authorization: 'Bearer admin', 'content-type': 'application/json' }, body: JSON.stringify({ uids: ['alice'], name: 'S2C_Message', body: { from_uid: 'ops', content: 'maintenance at ten', ts: Date.now() } }) })
  assert.equal(res.status, 200)
  await textOf(a, '#log li[data-from=ops] .where', 'to you')

  // A long word does not widen the page, at either width.
  await send(b, '#lobby', 'w'.repeat(400))
  await textOf(a, '#log li[data-from=bob][data-room=lobby]:last-child .text', 'w'.repeat(400))
  for (const width of [390, 1280]) {
    await a.setViewportSize({ width, height: 900 })
    await assertNoOverflow(a, `${width} px`)
    if (shots !== undefined) {
      mkdirSync(shots, { recursive: true })
      await a.screenshot({ path: join(shots, `demo-${width}.png`), fullPage: true })
    }
  }

  // A reload resumes, and says so in words (no raw position).
  await a.reload()
  assert.equal(await a.inputValue('#login input[name=uid]'), 'alice', 'the tab keeps its uid')
  await a.click('#login button[type=submit]')
  await textOf(a, '#status', 'connected as alice')
  const resume = await textOf(a, '#resume', /^resumed: nothing lost/)
  assert.doesNotMatch(resume, /:\d/)
  assert.deepEqual(errors, [])
})
