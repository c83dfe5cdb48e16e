import type { Gate } from '../src/gate.js'
import { fail, known, tcpListener, wsPath } from '../src/option-checks.js'
import type { TcpOptions } from '../src/options.js'
import { leafProtocol } from '../src/protocol/leaf.js'
import { mqttProtocol } from '../src/protocol/mqtt/mqtt.js'
import type { Protocol } from '../src/protocol/protocol.js'
import { isSubprotocolName } from '../src/transport/subprotocol.js'

/**
 * A protocol of the application's own (mqant's `SetCreateAgent`): its name and
 * codec in `protocol`, served on its own TCP port and/or a WebSocket path.
 */
export interface ProtocolListener {
  /** The protocol, or a function of the gate that makes it (when it needs the gate's codec or messages). */
  protocol: Protocol | ((gate: Gate<any>) => Protocol)
  /** Its own TCP (or TLS) listener. */
  tcp?: TcpOptions
  /** Its WebSocket path on the HTTP server. */
  path?: string
}

/** MQTT 3.1.1 (docs/protocol.md section 7). */
export interface MqttOptions {
  /** MQTT over TCP (or TLS) on its own port; off unless given. */
  tcp?: TcpOptions
  /** MQTT over WebSocket; default `/mqtt`, `false` turns it off. */
  path?: string | false
  /** QoS 2 PUBLISHes a connection may have unreleased (no PUBREL yet); past it 1008. Default 256. */
  maxInflight?: number
  /** ms a persistent session (clean session 0) is kept after its connection closed. Default 1 hour. */
  sessionExpiry?: number
}

/** A protocol and where it listens. */
export interface Served {
  protocol: Protocol
  tcp?: TcpOptions & { host: string }
  path?: string
}

/** A protocol's name: reported by the admin API, a label of the metrics, the key of `app.gateAddress`. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Every protocol and where it listens: leaf on the main path and TCP port, then
 * MQTT (`mqtt`), then the application's (`protocols`). Checks both options at
 * register time (`FST_GATE_INVALID_OPTION`, naming the option): their shape,
 * ports and paths, each protocol's members, names and paths served once, and
 * that MQTT's codec can decode a body alone.
 */
export function servedProtocols (gate: Gate<any>, mqtt: unknown, protocols: unknown): Served[] {
  const { tcp, path } = gate.options
  const served: Served[] = [{ protocol: leafProtocol, tcp: tcp === false ? undefined : tcp, path }]
  const add = (option: string, protocol: Protocol, tcp: Served['tcp'], path: string | undefined): void => {
    if (path !== undefined && served.some(s => s.path === path)) fail(`${option}.path`, `"${path}" is served twice`)
    served.push({ protocol, tcp, path })
  }
  if (mqtt !== undefined && mqtt !== false) {
    if (typeof mqtt !== 'object' || mqtt === null) fail('mqtt', 'must be an object { tcp?, path?, maxInflight?, sessionExpiry? } or false')
    const m = mqtt as MqttOptions
    known('mqtt', m, ['tcp', 'path', 'maxInflight', 'sessionExpiry'])
    const p = m.path === false ? undefined : wsPath('mqtt.path', m.path ?? '/mqtt')
    add('mqtt', mqttProtocol(gate, { maxInflight: m.maxInflight, sessionExpiry: m.sessionExpiry }), m.tcp === undefined ? undefined : tcpListener('mqtt.tcp', m.tcp), p)
  }
  if (protocols === undefined) return served
  if (!Array.isArray(protocols)) fail('protocols', 'must be an array of { protocol, tcp?, path? }')
  ;(protocols as unknown[]).forEach((entry, i) => {
    const option = `protocols[${i}]`
    if (typeof entry !== 'object' || entry === null) fail(option, 'must be an object { protocol, tcp?, path? }')
    const l = entry as ProtocolListener
    known(option, l, ['protocol', 'tcp', 'path'])
    if (typeof l.protocol !== 'function' && (typeof l.protocol !== 'object' || l.protocol === null)) {
      fail(`${option}.protocol`, 'must be a protocol, or a function of the gate that returns one')
    }
    const protocol = checkProtocol(`${option}.protocol`, typeof l.protocol === 'function' ? l.protocol(gate) : l.protocol)
    if (served.some(s => s.protocol.name === protocol.name)) fail(`${option}.protocol.name`, `protocol "${protocol.name}" is served twice`)
    if (l.tcp === undefined && l.path === undefined) fail(option, 'needs tcp, path or both: it is served nowhere')
    add(option, protocol, l.tcp === undefined ? undefined : tcpListener(`${option}.tcp`, l.tcp), l.path === undefined ? undefined : wsPath(`${option}.path`, l.path))
  })
  return served
}

/** An application's protocol has what the pipeline calls. */
function checkProtocol (option: string, p: unknown): Protocol {
  if (typeof p !== 'object' || p === null) fail(option, 'must be a protocol object')
  const protocol = p as Protocol
  if (typeof protocol.name !== 'string' || !NAME.test(protocol.name)) fail(`${option}.name`, 'must be 1-64 characters of A-Z a-z 0-9 _ . -')
  if (typeof protocol.open !== 'function') fail(`${option}.open`, 'must be a function (peer) => session')
  for (const framing of ['stream', 'message'] as const) {
    if (typeof protocol[framing]?.build !== 'function') fail(`${option}.${framing}`, 'must be a framing { build (msg) }')
  }
  if (typeof protocol.textFrames !== 'boolean') fail(`${option}.textFrames`, 'must be a boolean')
  if (protocol.refusal !== undefined && typeof protocol.refusal !== 'function') fail(`${option}.refusal`, 'must be a function (why) => bytes')
  if (protocol.probe !== undefined && !Buffer.isBuffer(protocol.probe)) fail(`${option}.probe`, 'must be a Buffer (bytes a client ignores)')
  if (protocol.subprotocols !== undefined) {
    if (!Array.isArray(protocol.subprotocols)) fail(`${option}.subprotocols`, 'must be an array of names')
    const bad = protocol.subprotocols.find(name => typeof name !== 'string' || !isSubprotocolName(name))
    if (bad !== undefined) fail(`${option}.subprotocols`, `protocol "${protocol.name}" declares the subprotocol ${JSON.stringify(bad)}, which is not an HTTP token`)
  }
  return protocol
}
