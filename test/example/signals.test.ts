/**
 * A terminal's Ctrl-C sends SIGINT to every process of the foreground group:
 * npm and the gateway at once, and npm passes it on, so the gateway gets it
 * twice within a few ms. That must still be the graceful path (a drain, 1012),
 * not "second signal: exiting now".
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { WsClient } from '../clients.js'
import { until } from '../helper.js'
import { freePort } from '../ports.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`npm start: ${signal} to the whole process group (npm and node at once) drains once, with 1012`, { timeout: 60000 }, async (t) => {
    const [port, tcpPort] = [await freePort(), await freePort()]
    const npm = spawn('npm', ['start', '--silent', '--ignore-scripts'], {
      cwd: ROOT,
      detached: true, // its own process group, as a terminal's foreground job
      env: { ...process.env, PORT: String(port), GATE_TCP_PORT: String(tcpPort), GATE_MQTT_PORT: 'off', GATE_TOKEN_SECRET: 'sig-secret', GATE_ADMIN_TOKEN: 'x', GATE_DRAIN_TIME: '1000', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    t.after(() => { try { process.kill(-npm.pid!, 'SIGKILL') } catch {} })
    let out = ''
    npm.stdout.on('data', (d: Buffer) => { out += d.toString() })
    npm.stderr.on('data', (d: Buffer) => { out += d.toString() })
    await until(() => out.includes('chat gateway ready'), 30000, 'the gateway to start')

    const clients = await Promise.all(['alice', 'bob', 'carol'].map(async uid => {
      const c = await WsClient.connect(`ws://127.0.0.1:${port}/ws`)
      c.send('C2S_UserLogin', { token: tokenSigner('sig-secret')(uid), login_plat: 1 })
      assert.equal((await c.nextOf('S2C_UserLogin')).body.ret, 1)
      return c
    }))

    const exited = once(npm, 'exit')
    process.kill(-npm.pid!, signal)
    for (const c of clients) assert.equal((await c.closed).code, 1012)
    const [code] = await exited
    assert.equal(code, 0, out)
    assert.match(out, /shutting down/)
    assert.doesNotMatch(out, /second signal/)
    assert.equal(out.match(/shutting down/g)?.length, 1)
  })
}
