import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** Builds dist/browser when a test runs without `npm test` (whose pretest builds it). */
export function ensureClientBuilt (): void {
  if (existsSync(`${root}dist/browser/gate-client.js`)) return
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'ui/build-client.ts'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('ui/build-client.ts failed')
}
