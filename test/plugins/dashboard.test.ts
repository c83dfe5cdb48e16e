import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { loadDashboardAssets } from '../../plugins/dashboard-assets.js'
import { DASHBOARD_CSP } from '../../plugins/dashboard.js'
import { ensureBuilt } from '../dashboard/build.js'
import { ok, startAdmin, TOKENS } from '../routes/helper.js'

before(ensureBuilt)

const withDashboard = { admin: { tokens: [...TOKENS], dashboard: true } }

test('the page and its assets are served under <prefix>/ui/ with a strict CSP, and hold no inline code', async (t) => {
  const s = await startAdmin(t, withDashboard)
  const redirect = await s.app.inject({ url: '/gate/ui' })
  assert.equal(redirect.statusCode, 302)
  assert.equal(redirect.headers.location, '/gate/ui/')

  const page = await s.app.inject({ url: '/gate/ui/' })
  assert.equal(page.statusCode, 200)
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  assert.equal(page.headers['content-security-policy'], DASHBOARD_CSP)
  assert.match(DASHBOARD_CSP, /default-src 'self'/)
  assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|https?:/)
  assert.equal(page.headers['cache-control'], 'no-cache')
  assert.doesNotMatch(page.body, /<script>|<style|\son\w+=|style=/i, 'no inline script, style or handler')
  assert.doesNotMatch(page.body, /https?:\/\//, 'nothing from outside')

  const assets = [...page.body.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map(m => m[1])
  assert.equal(assets.length, 2, 'one script and one stylesheet')
  for (const path of assets) {
    const raw = await s.app.inject({ url: `/gate/ui/${path}` })
    assert.equal(raw.statusCode, 200, path)
    assert.equal(raw.headers['content-security-policy'], DASHBOARD_CSP)
    assert.equal(raw.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.match(String(raw.headers['content-type']), path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/)
    const gz = await s.app.inject({ url: `/gate/ui/${path}`, headers: { 'accept-encoding': 'gzip, br' } })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.equal(gunzipSync(gz.rawPayload).toString(), raw.body)
  }
  const missing = await s.app.inject({ url: '/gate/ui/assets/nope.js' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().code, 'FST_GATE_NOT_FOUND')
})

test('the dashboard is off by default; its routes are in the OpenAPI document, the page is not', async (t) => {
  const off = await startAdmin(t)
  assert.equal((await off.app.inject({ url: '/gate/ui/' })).statusCode, 404)
  const s = await startAdmin(t, withDashboard)
  const paths = Object.keys((await ok(s, { url: '/gate/openapi.json' })).paths)
  for (const path of ['/gate/figures', '/gate/messages', '/gate/users/{uid}/counters']) assert.ok(paths.includes(path), path)
  assert.equal(paths.some(p => p.includes('/ui')), false)
})

test('without a build, registering the dashboard fails with FST_GATE_INVALID_OPTION', () => {
  const empty = mkdtempSync(join(tmpdir(), 'gate-ui-'))
  try {
    assert.throws(() => loadDashboardAssets(empty), (err: { code: string, message: string }) =>
      err.code === 'FST_GATE_INVALID_OPTION' && /npm run build:ui/.test(err.message))
  } finally {
    rmSync(empty, { recursive: true })
  }
})
