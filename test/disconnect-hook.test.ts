import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Agent } from '../src/agent.js'
import type { CloseReason } from '../src/close-codes.js'
import { CloseCode } from '../src/close-codes.js'
import { connectAgent, registerTestMessages, startCore, transports, until } from './helper.js'

/** What a disconnect hook saw of the agent, copied at the moment it ran. */
interface Seen { uid: string | undefined, rooms: string[], data: Record<string, unknown>, code: number, indexed: boolean, online: number }

for (const transport of transports) {
  describe(`onDisconnect sees the agent as it was at close (${transport})`, () => {
    const cases: Array<[string, (agent: Agent, close: () => Promise<void>) => Promise<void>, number]> = [
      ['the client closes', async (_agent, close) => { await close() }, CloseCode.NORMAL],
      ['the server kicks', async (agent) => { agent.close(CloseCode.KICKED, 'bye') }, CloseCode.KICKED]
    ]
    for (const [what, act, code] of cases) {
      test(`${what}: uid, rooms and data are still there; the indexes are already clean`, async (t) => {
        const seen: Seen[] = []
        const s = await startCore(t, {}, (app) => {
          registerTestMessages(app)
          app.gate.onDisconnect((agent: Agent, reason: CloseReason) => {
            seen.push({
              uid: agent.uid,
              rooms: [...agent.rooms].sort(),
              data: { ...agent.data },
              code: reason.code,
              indexed: app.gate.agent(agent.id) !== undefined,
              online: app.gate.agentsOf('alice').size
            })
          })
        })
        const { client, agent } = await connectAgent(s, transport)
        client.send('Login', { uid: 'alice' })
        assert.equal((await client.nextOf('Echo')).body.text, 'welcome alice')
        agent.join('lobby')
        agent.join('games')
        agent.data.plat = 3
        await act(agent, async () => { await client.close() })
        await until(() => seen.length === 1, 5000, 'the disconnect hook')
        assert.deepEqual(seen[0], { uid: 'alice', rooms: ['games', 'lobby'], data: { plat: 3 }, code, indexed: false, online: 0 })
        const users = await s.app.gate.users()
        assert.equal(users.total, 0)
        // Operations on the closed agent change nothing.
        agent.leave('lobby')
        agent.unbind()
        assert.equal(agent.uid, 'alice')
        assert.deepEqual([...agent.rooms].sort(), ['games', 'lobby'])
        assert.equal((await s.app.gate.pushToRoom('lobby', 'Echo', { text: 'x' })).delivered, 0)
      })
    }
  })
}
