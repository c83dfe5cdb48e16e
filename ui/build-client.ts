/**
 * Builds the client SDK's browser bundle (part of `npm run build:ui`):
 * client/index.ts, with protobufjs/light, as one ES module at
 * dist/browser/gate-client.js, for pages without a bundler. The gate serves it
 * at `GET <prefix>/client.js` with `admin: { client: true }`.
 */
import { build } from 'esbuild'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { buildInto } from './swap-dir.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const final = join(root, 'dist/browser')

let raw = Buffer.alloc(0)
await buildInto(final, async (out) => {
  mkdirSync(out, { recursive: true })
  const file = join(out, 'gate-client.js')
  await build({
    entryPoints: [join(root, 'client/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    outfile: file,
    legalComments: 'none',
    logLevel: 'error'
  })
  raw = readFileSync(file)
})
process.stderr.write(`client SDK built in dist/browser: gate-client.js, ${raw.length} bytes (${gzipSync(raw, { level: 9 }).length} gzip)\n`)
