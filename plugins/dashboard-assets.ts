import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { GateError } from '../src/errors.js'

/** One built file, held in memory with its gzip form. */
export interface Asset {
  type: string
  raw: Buffer
  gzip: Buffer
}

export interface DashboardAssets {
  /** The page, `index.html`. */
  page: Asset
  /** The hashed files under `assets/`, by file name. */
  files: Map<string, Asset>
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8'
}

/**
 * Where `npm run build:ui` writes the page: `dist/ui` of the package. From the
 * sources (`plugins/`) that is `../dist/ui`; from the compiled package
 * (`dist/plugins/`) it is `../ui`. A build leaves `manifest.json` there.
 */
const CANDIDATES = ['../dist/ui/', '../ui/'].map(dir => fileURLToPath(new URL(dir, import.meta.url)))

export function asset (path: string): Asset {
  const raw = readFileSync(path)
  return { type: TYPES[extname(path)] ?? 'application/octet-stream', raw, gzip: gzipSync(raw, { level: 9 }) }
}

/** Reads the built dashboard once, at register time. Throws `FST_GATE_INVALID_OPTION` when it was not built. */
export function loadDashboardAssets (dir = CANDIDATES.find(d => existsSync(join(d, 'manifest.json')))): DashboardAssets {
  if (dir === undefined || !existsSync(join(dir, 'manifest.json'))) {
    throw new GateError.INVALID_OPTION('admin.dashboard', 'the dashboard is not built (run `npm run build:ui`)')
  }
  const files = new Map<string, Asset>()
  for (const name of readdirSync(join(dir, 'assets'))) files.set(name, asset(join(dir, 'assets', name)))
  return { page: asset(join(dir, 'index.html')), files }
}
