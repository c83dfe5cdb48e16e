/**
 * The package as a new user gets it (`npm run test:package`; CI runs it on every
 * run, .ci/run). It needs the npm registry, so it is not part of `npm test`.
 *
 * `npm pack`, then in a fresh app under the OS temp directory: install the tarball
 * with the lowest fastify 5 we support, check there is one fastify in the tree,
 * import the package from JavaScript, compile the README's register example as a
 * strict NodeNext TypeScript consumer (plus a client part, and a wrong body that
 * must not compile), run it, and exchange Login/Ping/Pong over WebSocket and TCP,
 * by hand and with the client SDK (fastify-gate/client).
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from '../ports.js'

/** The lowest fastify the package claims (`peerDependencies.fastify`). */
export const LOWEST_FASTIFY = '5.0.0'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run (cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } })
  assert.equal(res.status, 0, `${cmd} ${args.join(' ')} failed (${String(res.status)}):\n${res.stdout}\n${res.stderr}`)
  return res
}

/** The README's register example, between its markers. */
function readmeExample (): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8')
  const block = /<!-- register-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- register-example:end -->/.exec(readme)
  assert.ok(block, 'README has the marked register example')
  return block[1]
}

/** The README example on free ports, then a client that talks to it over both transports. */
function consumerSource (): string {
  const example = readmeExample()
  assert.match(example, /tcp: \{ port: 3001 \}/)
  assert.match(example, /await app\.listen\(\{ port: 3000 \}\)/)
  return example
    .replace('tcp: { port: 3001 }', 'tcp: { port: 0 }')
    .replace('await app.listen({ port: 3000 })', "await app.listen({ port: 0, host: '127.0.0.1' })") + `
// ---- the consumer test's client part ----
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import type { Delivery, GateStats } from 'fastify-gate'
import { GateError } from 'fastify-gate'
import { CloseCode as CoreCloseCode } from 'fastify-gate/core'
import { createClient, webSocket } from 'fastify-gate/client'
import { tcp as tcpTransport } from 'fastify-gate/client/tcp'

assert.equal(CoreCloseCode.KICKED, 4001)
assert.equal(typeof GateError.UNKNOWN_MESSAGE, 'function')

if (process.env.NEVER === 'set') {
  // @ts-expect-error a body of the wrong type must not compile
  app.gate.broadcast('Pong', { n: 'x' })
  // @ts-expect-error an unknown name must not compile
  await app.gate.pushToRoom('lobby', 'Pang', { n: 1 })
}

const { port } = app.server.address() as AddressInfo
const tcpPort = app.gateTcpAddress()!.port

const ws = new WebSocket(\`ws://127.0.0.1:\${port}/ws\`)
await once(ws, 'open')
const wsIn: unknown[] = []
ws.on('message', (data: Buffer) => wsIn.push(JSON.parse(data.toString())))
ws.send(JSON.stringify({ Login: { uid: 'alice' } }))
ws.send(JSON.stringify({ Ping: { n: 1 } }))

const tcp = net.connect(tcpPort, '127.0.0.1')
await once(tcp, 'connect')
const frame = (msg: object): Buffer => {
  const payload = Buffer.from(JSON.stringify(msg))
  const header = Buffer.alloc(2)
  header.writeUInt16BE(payload.length)
  return Buffer.concat([header, payload])
}
const tcpIn: unknown[] = []
let buf = Buffer.alloc(0)
tcp.on('data', (chunk: Buffer) => {
  buf = Buffer.concat([buf, chunk])
  while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
    tcpIn.push(JSON.parse(buf.subarray(2, 2 + buf.readUInt16BE(0)).toString()))
    buf = buf.subarray(2 + buf.readUInt16BE(0))
  }
})
tcp.write(Buffer.concat([frame({ Login: { uid: 'bob' } }), frame({ Ping: { n: 41 } })]))

const deadline = Date.now() + 10_000
while ((wsIn.length < 1 || tcpIn.length < 1) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
assert.deepEqual(wsIn, [{ Pong: { n: 2 } }])
assert.deepEqual(tcpIn, [{ Pong: { n: 42 } }])

const stats: GateStats = await app.gate.stats()
assert.deepEqual([stats.connections, stats.onlineUsers], [2, 2])
const pushed: Delivery = await app.gate.pushToUids(['alice', 'bob'], 'Pong', { n: 7 })
assert.equal(pushed.delivered, 2)

// The client SDK, typed from the same schemas, over both transports.
for (const transport of [webSocket(\`ws://127.0.0.1:\${port}/ws\`), tcpTransport({ port: tcpPort })]) {
  const client = createClient<MessageBodies<typeof messages>>({ transport, login: (s) => { s.send('Login', { uid: 'carol' }) } })
  await client.connect()
  const pong = client.next('Pong')
  client.send('Ping', { n: 99 })
  assert.deepEqual(await pong, { n: 100 })
  if (process.env.NEVER === 'set') {
    // @ts-expect-error a client body of the wrong type must not compile
    client.send('Ping', { n: 'x' })
  }
  client.close()
}

ws.close()
tcp.end()
await app.close()
process.stdout.write('consumer ok\\n')
`
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    outDir: 'dist',
    types: ['node']
  },
  include: ['src']
}

interface Packed { work: string, tarball: string, files: string[] }
let packedOnce: Packed | undefined

/**
 * `npm pack`, once for every test here. It runs prepack (`npm run build`, which starts with
 * `clean`): in a copy of the repository, so the dist/ that test files running meanwhile use
 * is never deleted under them.
 */
function pack (): Packed {
  if (packedOnce !== undefined) return packedOnce
  const work = mkdtempSync(join(tmpdir(), 'gate-consumer-'))
  const source = join(work, 'source')
  cpSync(repo, source, { recursive: true, filter: (from) => !/^(node_modules|dist|\.git|coverage)$/.test(relative(repo, from)) })
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'), 'dir')
  const packed = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', work], source).stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  packedOnce = { work, tarball: join(work, packed[0].filename), files: packed[0].files.map(f => f.path) }
  return packedOnce
}

after(() => { if (packedOnce !== undefined) rmSync(packedOnce.work, { recursive: true, force: true }) })

test(`the packed tarball installs, type-checks and runs with fastify ${LOWEST_FASTIFY}`, { timeout: 900_000 }, () => {
  const { work, tarball, files } = pack()
  {
    for (const must of ['package.json', 'README.md', 'LICENSE', 'dist/plugins/gate.js', 'dist/plugins/gate.d.ts', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/ui/index.html', 'dist/ui/manifest.json', 'dist/client/index.js', 'dist/client/node.js', 'dist/client/tcp.js', 'dist/client/index.d.ts', 'dist/src/workers/index.js', 'dist/src/workers/index.d.ts', 'dist/browser/gate-client.js', 'docs/protocol.md']) {
      assert.ok(files.includes(must), `the tarball has ${must}`)
    }
    for (const path of files) {
      assert.doesNotMatch(path, /^(test|bench|examples|\.ci|src|plugins|routes)\/|\.test\.|\.map$|tsconfig/, `the tarball leaves out ${path}`)
    }

    const app = join(work, 'app')
    mkdirSync(join(app, 'src'), { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({
      name: 'gate-consumer',
      private: true,
      type: 'module',
      // The recipe docs/operations.md gives for Node 20: fastify's light-my-request >= 6.8 wants cookie 2 (Node >= 22).
      overrides: { 'light-my-request': '6.6.0' }
    }, null, 2))
    const install = run(npm, ['install', tarball, `fastify@${LOWEST_FASTIFY}`, '@sinclair/typebox@^0.34', 'ws@^8', '@types/ws@^8', '@types/node@^20', 'typescript@~5.9'], app)
    assert.doesNotMatch(install.stdout + install.stderr, /EBADENGINE/, 'no engine warning on this Node')

    // One fastify in the tree: the app's, used by the gate (a peer, not a nested copy).
    assert.equal(JSON.parse(readFileSync(join(app, 'node_modules/fastify/package.json'), 'utf8')).version, LOWEST_FASTIFY)
    assert.equal(existsSync(join(app, 'node_modules/fastify-gate/node_modules/fastify')), false, 'no nested fastify')
    const tree = execFileSync(npm, ['ls', 'fastify', '--all', '--parseable'], { cwd: app, encoding: 'utf8' })
    assert.deepEqual(tree.trim().split('\n').filter(line => line.endsWith('/fastify')), [join(app, 'node_modules/fastify')])

    // Plain JavaScript: both entry points import.
    const js = run(process.execPath, ['--input-type=module', '-e', `
      const gate = await import('fastify-gate')
      const core = await import('fastify-gate/core')
      const client = await import('fastify-gate/client')
      const workers = await import('fastify-gate/workers')
      if (typeof workers.runWorkers !== 'function' || typeof workers.onStopSignals !== 'function') process.exit(1)
      if (typeof gate.default !== 'function' || gate.CloseCode.NORMAL !== 1000 || typeof core.Gate !== 'function') process.exit(1)
      if (typeof client.createClient !== 'function' || client.CloseCode.KICKED !== 4001) process.exit(1)
      console.log('js ok')`], app)
    assert.match(js.stdout, /js ok/)

    // Strict TypeScript: the README example compiles, runs and talks.
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
    writeFileSync(join(app, 'src/server.ts'), consumerSource())
    run(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], app)
    const out = run(process.execPath, ['dist/server.js'], app, 60_000)
    assert.match(out.stdout, /consumer ok/)

    // And a wrong body really fails to compile (the directives above are not idle).
    writeFileSync(join(app, 'src/server.ts'), consumerSource().replace("agent.send('Pong', { n: msg.n + 1 })", "agent.send('Pong', { n: 'x' })"))
    const bad = spawnSync(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: app, encoding: 'utf8' })
    assert.notEqual(bad.status, 0)
    assert.match(bad.stdout, /TS2322/)
  }
})

/** A fenced TypeScript block of the README, found by the marker line before it. */
function readmeBlock (marker: RegExp): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8')
  const block = new RegExp(marker.source + String.raw`\s*` + '```ts\n([\\s\\S]*?)```').exec(readme)
  assert.ok(block?.[1], `README has the block after ${String(marker)}`)
  return block[1]
}

/** Login and Ping over the leaf TCP port, by hand: the Pong that comes back. */
async function pingOverTcp (port: number): Promise<unknown> {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      const socket = net.connect(port, '127.0.0.1')
      await once(socket, 'connect')
      const frame = (msg: object): Buffer => {
        const payload = Buffer.from(JSON.stringify(msg))
        const header = Buffer.alloc(2)
        header.writeUInt16BE(payload.length)
        return Buffer.concat([header, payload])
      }
      socket.write(Buffer.concat([frame({ Login: { uid: 'alice' } }), frame({ Ping: { n: 1 } })]))
      let buf = Buffer.alloc(0)
      for await (const chunk of socket) {
        buf = Buffer.concat([buf, chunk as Buffer])
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          socket.destroy()
          return JSON.parse(buf.subarray(2, 2 + buf.readUInt16BE(0)).toString())
        }
      }
      throw new Error('the connection closed without an answer')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

// The README's "Register it" as a newcomer follows it: `npm init -y`, the README's install line
// (the tarball for fastify-gate), TypeScript, `tsc --init` with the one change the README names
// ("types": ["node"]), and the README's block saved as server.ts, verbatim but for its two ports
// (free ones here). The ES module path sets "type": "module" as the README says; the CommonJS path
// keeps what `npm init -y` wrote and uses the README's CommonJS block.
for (const path of [
  { name: 'ES module', module: true, marker: /<!-- register-example:start -->/ },
  { name: 'CommonJS', module: false, marker: /<!-- snippet: commonjs -->/ }
]) {
  test(`the README's ${path.name} path runs verbatim in an app made by npm init -y and tsc --init`, { timeout: 900_000 }, async () => {
    const { work, tarball } = pack()
    const app = join(work, path.module ? 'fresh-esm' : 'fresh-cjs')
    mkdirSync(app)
    run(npm, ['init', '-y'], app)
    if (path.module) run(npm, ['pkg', 'set', 'type=module'], app)
    run(npm, ['install', tarball, 'fastify', '@sinclair/typebox'], app)
    run(npm, ['install', '--save-dev', 'typescript@~5.9', '@types/node@^20'], app)
    run(join(app, 'node_modules/.bin/tsc'), ['--init'], app)
    const tsconfig = readFileSync(join(app, 'tsconfig.json'), 'utf8')
    assert.match(tsconfig, /"types": \[\]/, 'tsc --init writes "types": [], as the README says')
    writeFileSync(join(app, 'tsconfig.json'), tsconfig.replace('"types": []', '"types": ["node"]'))

    const [httpPort, tcpPort] = [await freePort(), await freePort()]
    const block = readmeBlock(path.marker)
    assert.equal(block.split('port: 3000').length, 2, 'the block listens on port 3000 once')
    assert.equal(block.split('port: 3001').length, 2, 'the block opens TCP port 3001 once')
    writeFileSync(join(app, 'server.ts'), block.replace('port: 3001', `port: ${tcpPort}`).replace('port: 3000', `port: ${httpPort}`))
    run(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], app)

    const server = spawn(process.execPath, ['server.js'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    server.stdout.on('data', (d: Buffer) => { output += d.toString() })
    server.stderr.on('data', (d: Buffer) => { output += d.toString() })
    try {
      assert.deepEqual(await pingOverTcp(tcpPort), { Pong: { n: 2 } }, output)
      assert.match(output, /Server listening at/)
    } finally {
      server.kill('SIGTERM')
      if (server.exitCode === null) await once(server, 'exit')
    }
  })
}
