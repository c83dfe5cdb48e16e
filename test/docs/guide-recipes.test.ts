/**
 * docs/guide.md's "Talking to it" recipes, run as written (only the example's
 * fixed ports become the test app's): the WebSocket client logs in as alice
 * with a token from `npm run -s token`, joins the lobby and says hello; the raw
 * TCP client logs in as bob and writes to alice, who receives it; and the MQTT
 * recipe (mosquitto_pub, where installed) does the same.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { until } from '../helper.js'
import { SECRET, startChat } from '../example/helper.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const guide = readFileSync(new URL('../../docs/guide.md', import.meta.url), 'utf8')

/** The sh blocks of the guide's "Talking to it" section. */
function recipes (): string[] {
  const section = guide.slice(guide.indexOf('### Talking to it'))
  const blocks = [...section.slice(0, section.indexOf('\n## ')).matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1]!)
  assert.equal(blocks.length, 2, 'a WebSocket and a TCP recipe')
  return blocks
}

/** Runs a recipe in sh, in its own process group (killed after the test); collects its output lines. */
function run (t: TestContext, script: string): { lines: string[], child: ChildProcess, exited: Promise<number | null> } {
  const child = spawn('sh', ['-c', script], { cwd: repo, detached: true, env: { ...process.env, GATE_TOKEN_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} })
  const lines: string[] = []
  let err = ''
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(l => l !== '')))
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => {
    if (code !== 0 && code !== null) lines.push(`exited ${code}: ${err}`)
    resolve(code)
  }))
  return { lines, child, exited }
}

test('the guide\'s WebSocket and TCP clients talk to the example app as written', { timeout: 120_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const { port } = chat.app.server.address() as { port: number }
  const tcpPort = chat.app.gateTcpAddress()!.port
  const [ws, tcp] = recipes() as [string, string]
  assert.match(ws, /ws:\/\/127\.0\.0\.1:3000\/ws/)
  assert.match(tcp, /connect\(3001, "127\.0\.0\.1"\)/)

  const alice = run(t, ws.replace('127.0.0.1:3000', `127.0.0.1:${port}`))
  const seen = (lines: string[], text: string): boolean => lines.some(l => l.includes(text))
  await until(() => seen(alice.lines, '"content":"hello"'), 45_000, `alice's hello in the lobby; she saw ${JSON.stringify(alice.lines)}`)
  assert.ok(seen(alice.lines, '{"S2C_UserLogin":{"ret":1,"msg":"ok","uid":"alice"'), 'alice logged in')
  assert.ok(seen(alice.lines, '{"S2C_UpdateWatchRoom":{"rooms":["lobby"]}}'), 'alice is in the lobby')

  const bob = run(t, tcp.replace('connect(3001,', `connect(${tcpPort},`))
  await until(() => seen(alice.lines, '"content":"hi alice"'), 45_000, `bob's message at alice; bob saw ${JSON.stringify(bob.lines)}`)
  assert.ok(seen(alice.lines, '"from_uid":"bob"'))
  assert.ok(seen(bob.lines, '{"S2C_UserLogin":{"ret":1,"msg":"ok","uid":"bob"'), 'bob logged in')
})

const hasPub = existsSync('/usr/bin/mosquitto_pub')
if (!hasPub) process.stderr.write('\n*** mosquitto_pub is missing: SKIPPING the guide\'s MQTT recipe (apt-get install mosquitto-clients) ***\n\n')

test('the guide\'s mosquitto_pub recipe logs bob in with a token and writes to alice', { skip: hasPub ? false : 'mosquitto_pub is missing', timeout: 120_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const recipe = /```sh\n(mosquitto_pub -p 3002 [^\n]*)\n```/.exec(guide)
  assert.ok(recipe, 'the guide has the mosquitto_pub recipe')
  const alice = await chat.tcp()
  t.after(() => alice.close())
  alice.send('C2S_UserLogin', { token: tokenSigner(SECRET)('alice'), login_plat: 1 })
  assert.equal((await alice.nextOf('S2C_UserLogin')).body.ret, 1)
  const pub = run(t, recipe[1]!.replace('-p 3002', `-h 127.0.0.1 -p ${chat.app.gateAddress('mqtt')!.port}`))
  // mosquitto_pub exits once its message is sent (the token comes from npm run first, which takes a while).
  assert.equal(await pub.exited, 0, pub.lines.join('\n'))
  const got = await alice.nextOf('S2C_Message')
  assert.deepEqual([got.body.from_uid, got.body.to_uid, got.body.content], ['bob', 'alice', 'hi'])
})
