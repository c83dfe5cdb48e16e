import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { startCore } from '../helper.js'
import { ensureClientBuilt } from './build.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** esbuild's view of a browser bundle of `contents`: the files with code in the output. */
async function browserInputs (contents: string): Promise<string[]> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    outfile: 'bundle.js',
    metafile: true,
    logLevel: 'silent'
  })
  const [output] = Object.values(result.metafile.outputs)
  return Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([file]) => file)
}

test('the browser entry bundles for browsers without Node built-ins or ws; a JSON-only import leaves protobufjs out', async () => {
  const all = await browserInputs("export * from './client/index.ts'")
  assert.ok(all.some(f => f.includes('protobufjs')), 'the whole entry has the protobuf codec')
  assert.deepEqual(all.filter(f => f.startsWith('node:') || /node_modules\/ws\//.test(f)), [])

  const jsonOnly = await browserInputs("import { createClient, webSocket, json } from './client/index.ts'\ncreateClient({ transport: webSocket('ws://x'), codec: json() })")
  assert.deepEqual(jsonOnly.filter(f => f.includes('protobufjs')), [], 'tree-shaken: no protobufjs')
  assert.ok(jsonOnly.includes('client/client.ts'))
})

test('the TCP entry is Node-only: a browser build of it fails on node:net', async () => {
  await assert.rejects(browserInputs("export * from './client/tcp.ts'"), /node:net|Could not resolve/)
})

test('admin.client serves the prebuilt bundle at <prefix>/client.js; it is off by default', async (t) => {
  ensureClientBuilt()
  const on = await startCore(t, { admin: { client: true } })
  const res = await fetch(`${on.httpUrl}/gate/client.js`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/)
  const code = await res.text()
  assert.match(code, /export\s*\{/, 'an ES module')
  assert.doesNotMatch(code, /require\("node:|from"node:/)

  const off = await startCore(t, { admin: {} })
  assert.equal((await fetch(`${off.httpUrl}/gate/client.js`)).status, 404)
})
