/**
 * Issue: shutdown hanging on half-open requests and stalled clients, and
 * `npm start` ignoring a SIGTERM sent to its top process. Close must finish
 * within shutdownTimeout whatever is still open: these tests fail by their own
 * timeout if it hangs (they assert no timing otherwise).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { WsClient } from '../clients.js'
import { registerTestMessages, startCore, until } from '../helper.js'
import { freePort } from '../ports.js'

const closed = async (socket: net.Socket): Promise<void> => {
  if (!socket.destroyed) await new Promise(resolve => socket.once('close', resolve))
}

async function connect (port: number, allowHalfOpen = false): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen })
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

test('app.close() finishes with half-open requests, a slow request body, a stalled WebSocket and a TCP client that never ends', { timeout: 30000 }, async (t) => {
  const s = await startCore(t, { shutdownTimeout: 1500, closeTimeout: 300, headersTimeout: 60000 }, (app) => {
    registerTestMessages(app)
    app.post('/upload', async () => ({ ok: true }))
  })
  const { port } = s.app.server.address() as net.AddressInfo
  const halfOpen = await Promise.all(Array.from({ length: 30 }, async () => {
    const socket = await connect(port)
    socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    return socket
  }))
  const upload = await connect(port)
  upload.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":')
  const stalled = await s.ws()
  stalled.ws.pause()
  const stubborn = await connect(s.tcpPort, true)
  // Every HTTP connection counts for its whole life: the 30 half-open ones and the upload.
  await until(() => s.app.gate.connectionCount === 2 && s.app.gate.admission.unfinishedHttp === 31)

  const start = Date.now()
  await s.app.close()
  t.diagnostic(`app.close() took ${Date.now() - start} ms (shutdownTimeout 1500)`)
  for (const socket of [...halfOpen, upload]) await closed(socket)
  // The server is gone from under the half-open client; it finds out when it writes (the second write
  // after the server's reset fails: Node no longer polls a socket whose reading side has ended).
  const reset = closed(stubborn)
  const knock = setInterval(() => { if (!stubborn.destroyed) stubborn.write('anyone there?') }, 20)
  await reset
  clearInterval(knock)
  stalled.ws.resume()
  await stalled.closed
  assert.equal(s.app.gate.connectionCount, 0)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`npm start shuts down gracefully when only its top process gets ${signal}: clients get 1012 and nothing is left running`, { timeout: 120_000 }, async (t) => {
    const port = await freePort()
    const tcpPort = await freePort()
    const root = fileURLToPath(new URL('../..', import.meta.url))
    // --ignore-scripts: no prestart, which would rebuild dist/ui under the feet of test files running meanwhile.
    const npm = spawn('npm', ['start', '--silent', '--ignore-scripts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), GATE_TCP_PORT: String(tcpPort), GATE_MQTT_PORT: 'off', GATE_TOKEN_SECRET: 'sig-secret', GATE_ADMIN_TOKEN: 'x', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    t.after(() => { if (npm.exitCode === null) npm.kill('SIGKILL') })
    let out = ''
    npm.stdout.on('data', (d: Buffer) => { out += d.toString() })
    npm.stderr.on('data', (d: Buffer) => { out += d.toString() })
    await until(() => out.includes('chat gateway ready'), 60_000, 'the gateway to start')

    const client = await WsClient.connect(`ws://127.0.0.1:${port}/ws`)
    client.send('C2S_UserLogin', { token: tokenSigner('sig-secret')('alice'), login_plat: 1 })
    assert.equal((await client.nextOf('S2C_UserLogin')).body.ret, 1)

    const exited = once(npm, 'exit')
    process.kill(npm.pid!, signal)
    assert.equal((await client.closed).code, 1012)
    await exited
    assert.match(out, /shutting down/)
    // The gateway itself is gone, not orphaned: both ports refuse connections.
    for (const p of [port, tcpPort]) {
      await assert.rejects(connect(p), { code: 'ECONNREFUSED' })
    }
  })
}
