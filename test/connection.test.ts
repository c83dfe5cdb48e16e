/**
 * A connection is one object (docs/architecture.md): the agent that handlers
 * get is the peer its protocol session gets, and its close gives back
 * everything it held.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import type { Agent } from '../src/agent.js'
import { leafProtocol } from '../src/protocol/leaf.js'
import type { Protocol, ProtocolPeer } from '../src/protocol/protocol.js'
import { registerTestMessages, startCore, until } from './helper.js'

test('the protocol session gets the agent itself as its peer, and the close leaves nothing held', async (t) => {
  const peers: ProtocolPeer[] = []
  const connected: Agent[] = []
  const closed: Agent[] = []
  const watched: Protocol = { ...leafProtocol, name: 'watched', open: peer => { peers.push(peer); return leafProtocol.open(peer) } }
  const s = await startCore(t, { protocols: [{ protocol: watched, tcp: { port: 0, host: '127.0.0.1' } }] }, app => {
    registerTestMessages(app)
    app.gate.onConnect(agent => { connected.push(agent) })
    app.gate.onDisconnect(agent => { closed.push(agent) })
  })
  const gate = s.app.gate
  const socket = net.connect(s.app.gateAddress('watched')!.port, '127.0.0.1')
  t.after(() => socket.destroy())
  await until(() => peers.length === 1 && connected.length === 1, 5000, 'the connection')

  const agent = connected[0]
  assert.equal(peers[0], agent, 'the session\'s peer is the agent')
  assert.equal(peers[0].agent, agent)
  assert.equal(agent.protocol, 'watched')
  assert.equal(gate.connectionCount, 1)
  assert.equal(gate.admission.used, 1, 'the connection holds its admission place')

  socket.end()
  await until(() => closed.length === 1, 5000, 'the disconnect hook')
  assert.equal(closed[0], agent)
  assert.equal(agent.isOpen, false)
  assert.equal(gate.connectionCount, 0)
  assert.equal(gate.admission.used, 0, 'its place was given back')
  assert.equal(gate.agent(agent.id), undefined, 'it left the index')
})
