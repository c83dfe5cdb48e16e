import { Type } from '@sinclair/typebox'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MessageRegistry } from '../src/messages.js'
import { assertEchoes, connectAgent, recordCloses, startCore, transports } from './helper.js'

const ids = (r: MessageRegistry): Record<string, number> => Object.fromEntries(r.list().map(d => [d.name, d.id]))
const needsLogin = (r: MessageRegistry): Record<string, boolean> => Object.fromEntries(r.list().map(d => [d.name, d.needsLogin]))

describe('MessageRegistry', () => {
  test('ids are registration order from 0', () => {
    const r = new MessageRegistry()
    for (const name of ['A', 'B', 'C']) r.register(name)
    r.freeze()
    assert.deepEqual(ids(r), { A: 0, B: 1, C: 2 })
    assert.equal(r.byId(1)?.name, 'B')
    assert.equal(r.byId(3), undefined)
  })

  test('explicit ids: per message, or by the ids table (which wins)', () => {
    const r = new MessageRegistry()
    r.register('A', { id: 10 })
    r.register('B', { id: 20 })
    r.freeze({ B: 5 })
    assert.deepEqual(ids(r), { A: 10, B: 5 })
    assert.equal(r.byId(5)?.name, 'B')
    assert.equal(r.byId(20), undefined)
  })

  test('bad explicit ids are refused when frozen', () => {
    const cases: Array<[string, (r: MessageRegistry) => void]> = [
      ['some explicit, some not', r => { r.register('A', { id: 1 }); r.register('B'); r.freeze() }],
      ['a shared id', r => { r.register('A'); r.register('B'); r.freeze({ A: 3, B: 3 }) }],
      ['an id out of range', r => { r.register('A'); r.freeze({ A: 65536 }) }],
      ['an id for an unregistered name', r => { r.register('A'); r.freeze({ A: 0, Z: 1 }) }]
    ]
    for (const [what, build] of cases) {
      assert.throws(() => build(new MessageRegistry()), { code: 'FST_GATE_INVALID_OPTION' }, what)
    }
  })

  test('bad registrations are refused at once', () => {
    const r = new MessageRegistry()
    r.register('A')
    assert.throws(() => r.register('A'), { code: 'FST_GATE_DUPLICATE_MESSAGE' })
    assert.throws(() => r.register(''), { code: 'FST_GATE_INVALID_MESSAGE' })
    assert.throws(() => r.register('B', { id: -1 }), { code: 'FST_GATE_INVALID_MESSAGE' })
    assert.throws(() => r.register('B', { id: 1.5 }), { code: 'FST_GATE_INVALID_MESSAGE' })
    assert.throws(() => r.handle('Nope', () => {}), { code: 'FST_GATE_UNKNOWN_MESSAGE' })
    r.freeze()
    assert.throws(() => r.register('Late'), { code: 'FST_GATE_REGISTRY_FROZEN' })
  })

  test('with no login message nothing needs login, unless marked', () => {
    const r = new MessageRegistry()
    r.register('A')
    r.register('B', { needsLogin: true })
    r.freeze()
    assert.deepEqual(needsLogin(r), { A: false, B: true })
  })

  test('a login message turns the requirement on for every other message not marked public', () => {
    const r = new MessageRegistry()
    r.register('Heartbeat', { needsLogin: false })
    r.register('Chat')
    r.register('Login', { login: true, needsLogin: true })
    r.freeze()
    assert.deepEqual(needsLogin(r), { Heartbeat: false, Chat: true, Login: false })
    assert.equal(r.loginConfigured, true)
  })

  test('the schema is compiled once and checks bodies', () => {
    const r = new MessageRegistry()
    const def = r.register('A', { schema: Type.Object({ n: Type.Integer({ minimum: 0 }) }) })
    assert.equal(def.check?.Check({ n: 1 }), true)
    assert.equal(def.check?.Check({ n: -1 }), false)
    assert.equal(r.register('B').check, undefined)
  })
})

for (const transport of transports) {
  describe(`message dispatch over ${transport}`, () => {
    test('a registered message with no handler is ignored; the connection stays', async (t) => {
      const s = await startCore(t, {}, (app) => {
        app.gate.message('Silent')
        app.gate.message('Echo', { schema: Type.Object({ text: Type.String() }) }, (msg, agent) => { agent.send('Echo', msg) })
      })
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      client.send('Silent', { anything: 1 })
      await assertEchoes(client)
      assert.equal(agent.msgsIn, 2)
      assert.deepEqual(closes, [])
    })

    test('a handler set with handle() after registration is used, and gets the agent', async (t) => {
      const s = await startCore(t, {}, (app) => {
        app.gate.message('Echo', { schema: Type.Object({ text: Type.String() }) })
        app.gate.handle<{ text: string }>('Echo', (msg, agent) => { agent.send('Echo', { text: `${msg.text} via ${agent.transport}` }) })
      })
      const { client } = await connectAgent(s, transport)
      client.send('Echo', { text: 'hi' })
      assert.equal((await client.next()).body.text, `hi via ${transport}`)
    })
  })
}
