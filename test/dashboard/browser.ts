/**
 * Headless Chromium for the dashboard tests: Debian's `chromium` driven by
 * playwright-core (no browser download). Where it is missing, the tests say so
 * loudly and skip; CI installs it (.ci/run).
 */
import { existsSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  process.stderr.write(`\n*** ${CHROMIUM} is missing: SKIPPING the dashboard browser tests (apt-get install chromium) ***\n\n`)
}

export interface Tab {
  page: Page
  /** Content-Security-Policy violations the page reported. */
  violations: string[]
  /** Console errors and uncaught exceptions. */
  errors: string[]
}

/** A browser for this test, closed after it. */
export async function launch (t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
  t.after(() => browser.close())
  return browser
}

/** A fresh tab (its own sessionStorage) that records CSP violations and errors. */
export async function openTab (browser: Browser): Promise<Tab> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const tab: Tab = { page, violations: [], errors: [] }
  await page.exposeFunction('reportViolation', (directive: string) => { tab.violations.push(directive) })
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', e => { void (window as any).reportViolation(`${e.violatedDirective} ${e.blockedURI}`) })
  })
  page.on('console', msg => { if (msg.type() === 'error') tab.errors.push(msg.text()) })
  page.on('pageerror', err => { tab.errors.push(err.message) })
  return tab
}

/** Resolves once `selector`'s text is `expected` (or matches it); bounded, never a fixed sleep. */
export async function textOf (page: Page, selector: string, expected: string | RegExp, ms = 15000): Promise<string> {
  const deadline = Date.now() + ms
  let last: string | null = null
  while (Date.now() < deadline) {
    last = await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null)
    if (last !== null && (typeof expected === 'string' ? last.trim() === expected : expected.test(last))) return last.trim()
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${selector}: expected ${String(expected)}, last saw ${JSON.stringify(last)}`)
}
