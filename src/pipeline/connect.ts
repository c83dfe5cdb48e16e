import type { Agent } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import { LEAF_MESSAGE, LEAF_WS_FRAME, type Framing } from '../codec/outbound.js'
import { wsFrame } from '../framing/ws-frame.js'
import type { Slot } from '../limits/admission.js'
import type { Protocol } from '../protocol/protocol.js'
import type { GateRuntime } from '../runtime.js'
import type { Transport } from '../transport/kind.js'
import type { Link, Wire } from '../link.js'

/**
 * The one connection pipeline, for every protocol and transport: admission
 * (`GateRuntime.accept`) makes the connection's agent; the protocol's session
 * reads for it (`Protocol.open(agent)`), and the link reports the socket's
 * events to it (`Link.listen(agent)`). From then on, bytes go link -> agent ->
 * session -> agent (counters) -> dispatch (decode, schema, queue, handler),
 * and messages go agent -> link in the protocol's framing, with the agent's
 * outbound queue and byte bounds. A transport only translates socket events;
 * a protocol only translates bytes.
 */
export function connect (gate: GateRuntime, link: Link, protocol: Protocol, slot?: Slot): Agent<any> | undefined {
  const agent = gate.accept(link, wireOf(protocol, link.transport), slot)
  if (typeof agent === 'string') {
    link.refuse(protocol.refusal?.(agent))
    return undefined
  }
  try {
    agent.open(protocol.open(agent))
    link.listen(agent)
  } catch (err) {
    // Whatever throws while setting up leaves no agent behind, and does not escape
    // into the transport's connection listener.
    agent.log.error({ err, protocol: protocol.name }, 'the connection could not be set up')
    link.destroy()
    agent.socketClosed({ code: CloseCode.INTERNAL_ERROR, reason: 'connection setup failed' })
    return undefined
  }
  return agent
}

const wires = new WeakMap<Protocol, { ws?: Wire, tcp?: Wire }>()

/** How `protocol`'s messages go over `transport`: one object per protocol and transport, shared by their connections. */
export function wireOf (protocol: Protocol, transport: Transport): Wire {
  let both = wires.get(protocol)
  if (both === undefined) wires.set(protocol, both = {})
  return (both[transport] ??= transport === 'tcp'
    ? { protocol: protocol.name, countFraming: protocol.stream, queueFraming: protocol.stream, probe: protocol.probe }
    : { protocol: protocol.name, countFraming: protocol.message, queueFraming: wsFramingOf(protocol), probe: undefined })
}

const wsFramings = new WeakMap<Protocol, Framing>()

/**
 * The whole WebSocket frame of a protocol's message, one framing object per
 * protocol (the cache key of `OutboundMessage.frame`).
 */
export function wsFramingOf (protocol: Protocol): Framing {
  if (protocol.message === LEAF_MESSAGE) return LEAF_WS_FRAME
  let f = wsFramings.get(protocol)
  if (f === undefined) {
    f = { build: msg => wsFrame(msg.frame(protocol.message), protocol.textFrames && msg.text && !msg.raw) }
    wsFramings.set(protocol, f)
  }
  return f
}
