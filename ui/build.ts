/**
 * Builds the dashboard (`npm run build:ui`): bundles ui/src with esbuild into
 * dist/ui/assets (file names carry a content hash), writes the page that loads
 * them and a manifest with their sizes. Everything comes from npm packages;
 * nothing is fetched at run time.
 */
import { build } from 'esbuild'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { buildInto } from './swap-dir.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const final = join(root, 'dist/ui')

let sizes: Array<{ file: string, bytes: number, gzip: number }> = []
await buildInto(final, async (out) => {
  mkdirSync(out, { recursive: true })
  const result = await build({
    entryPoints: [join(root, 'ui/src/main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning'
  })

  const files = Object.keys(result.metafile.outputs).map(p => basename(p))
  const script = files.find(f => f.endsWith('.js'))
  const style = files.find(f => f.endsWith('.css'))
  if (script === undefined || style === undefined) throw new Error(`the build made ${files.join(', ')}`)

  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>fastify-gate dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${style}">
<script type="module" src="assets/${script}"></script>
</head>
<body>
<div id="app"><noscript>The fastify-gate dashboard needs JavaScript.</noscript></div>
</body>
</html>
`
  writeFileSync(join(out, 'index.html'), page)

  sizes = ['index.html', ...files.map(f => `assets/${f}`)].map(file => {
    const raw = readFileSync(join(out, file))
    return { file, bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length }
  })
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ files: sizes }, null, 2) + '\n')
})
const total = sizes.reduce((a, s) => ({ bytes: a.bytes + s.bytes, gzip: a.gzip + s.gzip }), { bytes: 0, gzip: 0 })
process.stderr.write(`dashboard built in dist/ui: ${sizes.length} files, ${total.bytes} bytes (${total.gzip} gzip)\n`)
