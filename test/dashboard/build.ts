import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** Builds the dashboard when a test runs without `npm test` (whose pretest builds it). */
export function ensureBuilt (): void {
  if (existsSync(`${root}dist/ui/manifest.json`)) return
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'ui/build.ts'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('npm run build:ui failed')
}
