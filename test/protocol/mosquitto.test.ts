/**
 * Interoperability with Eclipse Mosquitto's command-line clients (Debian
 * `mosquitto-clients`): `mosquitto_pub` logs in with a token and messages a
 * leaf client; `mosquitto_sub` receives what a leaf client sends to its room.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat } from '../example/helper.js'
import { until } from '../helper.js'

const PUB = '/usr/bin/mosquitto_pub'
const SUB = '/usr/bin/mosquitto_sub'
const has = existsSync(PUB) && existsSync(SUB)
if (!has) process.stderr.write('\n*** mosquitto_pub/mosquitto_sub are missing: SKIPPING the mosquitto interoperability tests (apt-get install mosquitto-clients) ***\n\n')
const skip = has ? false : 'mosquitto-clients is missing (apt-get install mosquitto-clients)'
const sign = tokenSigner(SECRET)

test('mosquitto_pub logs in with a token (QoS 1) and messages a leaf client', { skip }, async (t) => {
  const chat = await startChat(t, 'json')
  const alice = await chat.tcp()
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.next()).body.ret, 1)
  const port = String(chat.app.gateAddress('mqtt')!.port)
  const out = await new Promise<{ code: number | null, stderr: string }>(resolve => {
    execFile(PUB, ['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', 'bob', '-P', sign('bob'), '-t', 'C2S_Message', '-m', JSON.stringify({ to_uid: 'alice', content: 'from mosquitto' })],
      { timeout: 10000 }, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr }))
  })
  assert.equal(out.code, 0, out.stderr)
  const got = await alice.next()
  assert.equal(got.name, 'S2C_Message')
  assert.deepEqual([got.body.from_uid, got.body.content], ['bob', 'from mosquitto'])
  await until(() => chat.closes.length === 1)
  assert.equal(chat.closes[0]!.code, 1000, 'mosquitto_pub ends with DISCONNECT: a normal close')
  await alice.close()
})

test('mosquitto_pub with a bad token is refused (CONNACK 5)', { skip }, async (t) => {
  const chat = await startChat(t, 'json')
  const port = String(chat.app.gateAddress('mqtt')!.port)
  const code = await new Promise<number | null>(resolve => {
    execFile(PUB, ['-h', '127.0.0.1', '-p', port, '-u', 'x', '-P', 'bad', '-t', 'C2S_UserHeartBeat', '-m', '{"ptime":1}'],
      { timeout: 10000 }, err => resolve(err === null ? 0 : (err as { code?: number }).code ?? null))
  })
  assert.notEqual(code, 0)
  await until(() => chat.closes.length === 1)
  assert.equal(chat.closes[0]!.code, 4003)
})

test('mosquitto_sub joins a room by subscribing room/<name> and receives what a leaf client sends there', { skip }, async (t) => {
  const chat = await startChat(t, 'json')
  const port = String(chat.app.gateAddress('mqtt')!.port)
  const sub = spawn(SUB, ['-h', '127.0.0.1', '-p', port, '-u', 'carol', '-P', sign('carol'), '-t', 'room/lobby', '-C', '1', '-v'])
  t.after(() => sub.kill())
  let stdout = ''
  sub.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  await until(() => [...chat.app.gate.agentsOf('carol')].some(a => a.rooms.has('lobby')), 10000, 'carol in the lobby')
  const alice = await chat.ws()
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.next()).body.ret, 1)
  alice.send('C2S_Message', { room: 'lobby', content: 'hello mosquitto' })
  const code = await new Promise<number | null>(resolve => sub.once('exit', resolve))
  assert.equal(code, 0)
  const [topic, payload] = [stdout.slice(0, stdout.indexOf(' ')), stdout.slice(stdout.indexOf(' ') + 1)]
  assert.equal(topic, 'S2C_Message')
  assert.equal(JSON.parse(payload).content, 'hello mosquitto')
  await alice.close()
})

test('mosquitto_sub -c -i <id>: the persistent session gets back what its uid was sent while away, and its rooms', { skip, timeout: 60_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const port = String(chat.app.gateAddress('mqtt')!.port)
  const sub = (topic: string, count: number): { exited: Promise<number | null>, out: () => string } => {
    const p = spawn(SUB, ['-h', '127.0.0.1', '-p', port, '-c', '-i', 'carol-desk', '-u', 'carol', '-P', sign('carol'), '-t', topic, '-C', String(count), '-v'])
    t.after(() => p.kill())
    let stdout = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    return { exited: new Promise(resolve => p.once('exit', resolve)), out: () => stdout }
  }
  const inLobby = (): boolean => [...chat.app.gate.agentsOf('carol')].some(a => a.rooms.has('lobby'))
  const alice = await chat.ws()
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.next()).body.ret, 1)

  const first = sub('room/lobby', 1)
  await until(inLobby, 10000, 'carol in the lobby')
  alice.send('C2S_Message', { room: 'lobby', content: 'first' })
  assert.equal(await first.exited, 0)
  await until(() => chat.app.gate.agentsOf('carol').size === 0, 5000, 'carol gone')

  alice.send('C2S_Message', { to_uid: 'carol', content: 'while away' })
  await until(async () => (await chat.app.gate.history.page('carol', 0, 10, chat.app.gate.processor)).items.length === 1, 5000, 'kept')
  const second = sub('nothing/here', 2)
  await until(inLobby, 10000, 'the session rejoined the lobby')
  alice.send('C2S_Message', { room: 'lobby', content: 'room again' })
  assert.equal(await second.exited, 0)
  const lines = second.out().trim().split('\n')
  assert.deepEqual(lines.map(l => JSON.parse(l.slice(l.indexOf(' ') + 1)).content), ['while away', 'room again'])
  await alice.close()
})
