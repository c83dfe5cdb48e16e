import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const CHAT_MESSAGES = ['C2S_UserHeartBeat', 'C2S_UserLogin', 'S2C_UserLogin', 'C2S_Message', 'S2C_Message', 'C2S_UpdateWatchRoom', 'S2C_UpdateWatchRoom', 'S2C_Error', 'S2C_Close', 'C2S_Online', 'S2C_Online', 'Gate_Subscribe', 'Gate_Unsubscribe', 'Gate_Request', 'Gate_Reply']

/** The example app's admin document, as a client would fetch it. */
async function chatDocument (t: import('node:test').TestContext): Promise<any> {
  const app = await buildChatApp(loadConfig({ GATE_ADMIN_TOKEN: 'admin', GATE_TCP_PORT: 'off', GATE_MQTT_PORT: 'off' }), { logger: false })
  t.after(() => app.close())
  await app.ready()
  const res = await app.inject({ url: '/gate/openapi.json', headers: { authorization: 'Bearer admin' } })
  assert.equal(res.statusCode, 200)
  return res.json()
}

test('the admin document has operationIds, servers, a license and described tags', async (t) => {
  const doc = await chatDocument(t)
  assert.equal(doc.info.license.name, 'MIT')
  assert.ok(doc.servers.length > 0 && doc.servers.every((s: { url: string }) => s.url.length > 0))
  assert.ok(doc.tags.every((tag: { description?: string }) => typeof tag.description === 'string'))
  const ids = Object.values(doc.paths).flatMap((ops: any) => Object.values(ops).map((op: any) => op.operationId))
  assert.ok(ids.every(id => typeof id === 'string' && id.length > 0), 'every operation has an operationId')
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique')
})

test('push, room push and broadcast bodies are a oneOf over the registered messages and their schemas', async (t) => {
  const doc = await chatDocument(t)
  const bodyOf = (path: string): any => doc.paths[path].post.requestBody.content['application/json'].schema
  for (const [path, extra] of [['/gate/push', ['uids']], ['/gate/rooms/{room}/push', ['except']], ['/gate/broadcast', ['loggedInOnly']]] as const) {
    const variants = bodyOf(path).oneOf as any[]
    assert.deepEqual(variants.map(v => v.properties.name.enum), CHAT_MESSAGES.map(n => [n]), path)
    for (const v of variants) {
      assert.equal(v.additionalProperties, false, path)
      assert.deepEqual(Object.keys(v.properties).sort(), [...extra, 'body', 'name'].sort(), path)
    }
  }
  const login = bodyOf('/gate/push').oneOf.find((v: any) => v.title === 'S2C_UserLogin')
  assert.deepEqual(Object.keys(login.properties.body.properties).sort(), ['gate_pos', 'msg', 'recovered', 'ret', 'uid'])
  assert.deepEqual(login.required.sort(), ['body', 'name', 'uids'])
})

test('redocly lint passes on the admin document', async (t) => {
  const doc = await chatDocument(t)
  const dir = mkdtempSync(join(tmpdir(), 'gate-openapi-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(doc, null, 2))
  const run = spawnSync(process.execPath, [join(root, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', '--config', join(root, 'redocly.yaml'), file], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 120_000
  })
  const output = `${run.stdout}\n${run.stderr}`
  assert.equal(run.status, 0, output)
  assert.doesNotMatch(output, /You have \d+ warnings?/, output)
})
