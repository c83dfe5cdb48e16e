/**
 * Issue 21, weaker item: the dashboard threw an uncaught URIError on
 * `#/users/%E0%A4%A`. Now a malformed escape shows the overview.
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { until } from '../helper.js'
import { startAdmin, TOKENS } from '../routes/helper.js'
import { hasChromium, launch, openTab } from '../dashboard/browser.js'
import { ensureBuilt } from '../dashboard/build.js'

const skip = hasChromium ? false : 'chromium is missing (apt-get install chromium)'

before(() => { if (hasChromium) ensureBuilt() })

test('a malformed escape in the hash shows the overview, with no script error', { skip }, async (t) => {
  const s = await startAdmin(t, { admin: { tokens: [...TOKENS], dashboard: true } })
  const tab = await openTab(await launch(t))
  await tab.page.goto(`${s.httpUrl}/gate/ui`)
  await tab.page.fill('#token', TOKENS[0])
  await tab.page.click('form button[type=submit]')
  await until(async () => await tab.page.locator('[data-figure]').count() > 0, 15000, 'the overview')
  await tab.page.goto(`${s.httpUrl}/gate/ui/#/users/%E0%A4%A`)
  await until(async () => await tab.page.locator('[data-figure]').count() > 0, 15000, 'the overview again')
  assert.deepEqual(tab.errors.filter(e => /URIError|malformed/i.test(e)), [])
})
