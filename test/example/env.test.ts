/**
 * The example app's framing switches for real leaf clients (GATE_LEN_MSG_LEN,
 * GATE_LITTLE_ENDIAN, GATE_TEXT_FRAMES) and leaf's Go JSON habit of sending a nil
 * list as `null`.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import WebSocket from 'ws'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, Wire, WsClient } from '../clients.js'

const SECRET = 'test-secret'

async function startChat (t: TestContext, env: Record<string, string>): Promise<{ port: number, tcpPort: number }> {
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env })
  const app = await buildChatApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'silent' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return { port: (app.server.address() as { port: number }).port, tcpPort: app.gateTcpAddress()!.port }
}

test('config: the framing variables are read and checked', () => {
  const base = loadConfig({})
  assert.deepEqual([base.lenMsgLen, base.littleEndian, base.textFrames], [2, false, false], 'leaf\'s defaults')
  const set = loadConfig({ GATE_LEN_MSG_LEN: '4', GATE_LITTLE_ENDIAN: 'true', GATE_TEXT_FRAMES: '1' })
  assert.deepEqual([set.lenMsgLen, set.littleEndian, set.textFrames], [4, true, true])
  assert.equal(loadConfig({ GATE_LEN_MSG_LEN: '1' }).lenMsgLen, 1)
  assert.equal(loadConfig({ GATE_LITTLE_ENDIAN: '0' }).littleEndian, false)
  assert.throws(() => loadConfig({ GATE_LEN_MSG_LEN: '3' }), /GATE_LEN_MSG_LEN/)
  assert.throws(() => loadConfig({ GATE_LITTLE_ENDIAN: 'yes' }), /GATE_LITTLE_ENDIAN/)
  assert.throws(() => loadConfig({ GATE_TEXT_FRAMES: 'on' }), /GATE_TEXT_FRAMES/)
})

for (const [lenMsgLen, littleEndian] of [[4, true], [4, false], [1, false], [2, true]] as const) {
  test(`TCP with GATE_LEN_MSG_LEN=${lenMsgLen} GATE_LITTLE_ENDIAN=${littleEndian}: login and heartbeat`, async (t) => {
    const s = await startChat(t, { GATE_LEN_MSG_LEN: String(lenMsgLen), GATE_LITTLE_ENDIAN: String(littleEndian) })
    const client = await TcpClient.connect(s.tcpPort, new Wire({ lenMsgLen, littleEndian }))
    t.after(() => client.close())
    client.send('C2S_UserLogin', { token: tokenSigner(SECRET)('alice') })
    assert.deepEqual((await client.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid: 'alice' })
    client.send('C2S_UserHeartBeat', { ptime: 1 })
    assert.equal(typeof (await client.nextOf('C2S_UserHeartBeat')).body.ptime, 'number')
  })
}

for (const textFrames of [true, false]) {
  test(`WebSocket with GATE_TEXT_FRAMES=${textFrames}: JSON arrives in ${textFrames ? 'text' : 'binary'} frames`, async (t) => {
    const s = await startChat(t, { GATE_TEXT_FRAMES: String(textFrames) })
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`)
    t.after(() => ws.close())
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const frame = new Promise<{ data: string, isBinary: boolean }>(resolve => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data: data.toString(), isBinary })))
    ws.send(JSON.stringify({ C2S_UserHeartBeat: { ptime: 1 } }))
    const { data, isBinary } = await frame
    assert.equal(isBinary, !textFrames)
    assert.ok('C2S_UserHeartBeat' in JSON.parse(data))
  })
}

test('C2S_UpdateWatchRoom with "rooms": null leaves every room, as an empty list does', async (t) => {
  const s = await startChat(t, {})
  const client = await WsClient.connect(`ws://127.0.0.1:${s.port}/ws`)
  t.after(() => client.close())
  client.send('C2S_UserLogin', { token: tokenSigner(SECRET)('alice') })
  await client.nextOf('S2C_UserLogin')
  client.send('C2S_UpdateWatchRoom', { rooms: ['lobby', 'games'] })
  assert.deepEqual((await client.nextOf('S2C_UpdateWatchRoom')).body.rooms.sort(), ['games', 'lobby'])
  client.send('C2S_UpdateWatchRoom', { rooms: null })
  assert.deepEqual((await client.nextOf('S2C_UpdateWatchRoom')).body, { rooms: [] })
  client.send('C2S_UpdateWatchRoom', { rooms: [] })
  assert.deepEqual((await client.nextOf('S2C_UpdateWatchRoom')).body, { rooms: [] })
})
