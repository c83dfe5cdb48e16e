import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bundle = `${root}dist/browser/gate-client.js`

/** True when the bundle is missing or older than a source file of the SDK. */
function stale (): boolean {
  if (!existsSync(bundle)) return true
  const built = statSync(bundle).mtimeMs
  return readdirSync(`${root}client`).some(f => statSync(`${root}client/${f}`).mtimeMs > built)
}

/** Builds dist/browser when a test runs without `npm test` (whose pretest builds it), or after the SDK changed. */
export function ensureClientBuilt (): void {
  if (!stale()) return
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'ui/build-client.ts'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('ui/build-client.ts failed')
}
