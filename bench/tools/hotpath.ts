/**
 * The gate's per-message JavaScript, without sockets: a heartbeat through
 * the agent as its protocol session's peer (`agent.receive`: decode, schema check, inbox, handler, encode, frame) into a
 * connection that only counts, beside the bare baseline's same work, with and
 * without the metrics observer, and with the per-connection rate limiter
 * (`msgRate`, set high enough never to bind) against none. Sockets and the kernel are left out, so this
 * isolates what the gate adds. Run the compiled copy that `npm run bench` leaves
 * in .bench-tmp/build (tsx wraps every closure in a naming helper, which
 * inflates per-message closures):
 *
 *     node .bench-tmp/build/bench/tools/hotpath.js [messages]
 */
import pino from 'pino'
import { registerChat } from '../../examples/chat/handlers.js'
import { gateMetrics } from '../../plugins/metrics.js'
import type { OutboundMessage } from '../../src/codec/outbound.js'
import { Gate } from '../../src/gate.js'
import { wireOf } from '../../src/pipeline/connect.js'
import type { Link } from '../../src/link.js'
import { leafProtocol } from '../../src/protocol/leaf.js'
import { BareChat } from '../servers/bare-chat.js'

const n = Number(process.argv[2] ?? 1_000_000)
const payload = Buffer.from(JSON.stringify({ C2S_UserHeartBeat: { ptime: 1 } }))

async function gateNsPerMsg (metrics: boolean, transport: 'ws' | 'tcp', rateLimited = false): Promise<number> {
  const gate = new Gate({ idleTimeout: 0, msgRate: rateLimited ? 1e9 : 0, msgRatePerIp: rateLimited ? 1e9 : 0 }, pino({ level: 'silent' }))
  registerChat(gate, () => 'u1')
  if (metrics) gateMetrics(gate)
  await gate.ready()
  const link: Link = {
    transport,
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    write: (msg: OutboundMessage) => { if (transport === 'ws') void msg.wsFrame; else void msg.framed; return true },
    close () {},
    destroy () {},
    pause () {},
    resume () {},
    probe: () => false,
    listen () {},
    refuse () {}
  }
  const agent = gate.runtime.accept(link, wireOf(leafProtocol, transport))
  if (typeof agent === 'string') throw new Error(`refused: ${agent}`)
  agent.open(leafProtocol.open(agent))
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) agent.receive(payload, payload.length)
  const ns = Number(process.hrtime.bigint() - t) / n
  await gate.close()
  return ns
}

function bareNsPerMsg (): number {
  const chat = new BareChat()
  const conn = { send () {}, close () {} }
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) chat.receive(conn, payload)
  return Number(process.hrtime.bigint() - t) / n
}

for (let round = 1; round <= 3; round++) {
  const rows = [
    `gate ws ${(await gateNsPerMsg(false, 'ws')).toFixed(0)} ns`,
    `gate ws + msgRate ${(await gateNsPerMsg(false, 'ws', true)).toFixed(0)} ns`,
    `gate ws + metrics ${(await gateNsPerMsg(true, 'ws')).toFixed(0)} ns`,
    `gate tcp + metrics ${(await gateNsPerMsg(true, 'tcp')).toFixed(0)} ns`,
    `bare ${bareNsPerMsg().toFixed(0)} ns`
  ]
  process.stdout.write(`round ${round}: ${rows.join(', ')} per heartbeat\n`)
}
