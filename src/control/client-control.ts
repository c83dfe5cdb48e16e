import protobuf from 'protobufjs'
import type { Agent } from '../agent.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { RequestAnswer, RequestPairing } from '../dispatch.js'
import { isName } from '../identity.js'
import type { GateLogger } from '../logger.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import type { CanJoin } from '../options.js'
import type { Recovery } from '../history/recovery.js'
import { CONTROL_NAMES, ReplyCode, controlSchemas, controlTypes } from './messages.js'

/** What client control works with. */
export interface ControlParts {
  /** The `clientControl` option: the `Gate_*` messages are registered. */
  readonly enabled: boolean
  readonly canJoin: CanJoin | undefined
  readonly maxRooms: number
  readonly membership: { join (agent: Agent, room: string): void, leave (agent: Agent, room: string): void }
  /** [room history] Replays a room's kept messages after the client's position (`Gate_Subscribe.since`). */
  readonly roomHistory: { resume (agent: Agent, room: string, since: string): Promise<Recovery> }
  encode (name: string, body: unknown): OutboundMessage
  readonly log: GateLogger
}

/** A protobufjs Root, as far as adding the control types to it goes (src/codec/protobuf.ts). */
interface RootLike {
  lookup (name: string): unknown
  add (object: unknown): unknown
}

/**
 * What a client may ask of the gate itself (docs/protocol.md section 10):
 * subscribe and unsubscribe with the application's permission (`canJoin`),
 * on every protocol (leaf's `Gate_Subscribe`, MQTT's `room/<name>` filters),
 * and leaf's request pairing: a `Gate_Request { id }` makes the connection's
 * next message a request, answered with `Gate_Reply { id, code }` and, when
 * the handler answered, its answer right behind it.
 */
export class ClientControl implements RequestPairing {
  /** `Gate_Request`, once registered (`clientControl` on). */
  requestDef: MessageDef | undefined = undefined
  private readonly p: ControlParts
  private registry: MessageRegistry | undefined
  /** Each connection's announced request id; a WeakMap, so a connection that closes in between needs no bookkeeping. */
  private readonly pending = new WeakMap<Agent, number>()
  /** Announced and not yet taken (an upper bound: a connection may close in between); 0 skips the lookup. */
  private announced = 0

  constructor (parts: ControlParts) {
    this.p = parts
  }

  /**
   * Registers the control messages after the application's (called once, before
   * the registry is frozen). With explicit protobuf ids (`ids`, or per message),
   * they take the ids after the largest one.
   */
  install (registry: MessageRegistry, processor: Processor, ids?: Record<string, number>): void {
    this.registry = registry
    if (!this.p.enabled) return
    const root = (processor as { root?: RootLike }).root
    if (processor.encoding === 'protobuf' && root !== undefined) addTypes(root)
    const given = registry.list().map(def => ids?.[def.name] ?? def.explicitId ?? -1)
    const explicit = given.some(id => id >= 0)
    let next = Math.max(-1, ...given) + 1
    const opts = (): { needsLogin: false, id?: number } => explicit ? { needsLogin: false, id: next++ } : { needsLogin: false }
    const room = (body: unknown): string => (body as { room: string }).room
    const id = (body: unknown): number => (body as { id: number }).id
    registry.register(CONTROL_NAMES.subscribe, { schema: controlSchemas.Gate_Subscribe, ...opts() }, async (body, agent) => {
      const since = (body as { since?: string }).since
      const code = await this.subscribe(agent, room(body))
      if (since === undefined || code !== ReplyCode.OK || !agent.isOpen) {
        this.reply(agent, id(body), code, undefined)
        return
      }
      // [room history] the missed messages go out first, then the reply with the position after them
      const r = await this.p.roomHistory.resume(agent, room(body), since)
      if (agent.isOpen) agent.write(this.p.encode(CONTROL_NAMES.reply, { id: id(body), code, recovered: r.recovered, pos: r.pos }))
    })
    registry.register(CONTROL_NAMES.unsubscribe, { schema: controlSchemas.Gate_Unsubscribe, ...opts() }, (body, agent) => {
      this.reply(agent, id(body), this.unsubscribe(agent, room(body)), undefined)
    })
    this.requestDef = registry.register(CONTROL_NAMES.request, { schema: controlSchemas.Gate_Request, ...opts() })
    registry.register(CONTROL_NAMES.reply, { schema: controlSchemas.Gate_Reply, ...opts() })
  }

  /**
   * A client's subscribe, on any protocol: `''` when the connection is (now) in
   * the room, else the refusal's code. Checks, in order: login (leaf, on a gate
   * with a login message), the name, `maxRooms`, then `canJoin`.
   */
  async subscribe (agent: Agent, room: string): Promise<string> {
    if (agent.uid === undefined && this.registry?.loginConfigured === true) return ReplyCode.LOGIN_REQUIRED
    if (!isName(room)) return ReplyCode.INVALID_ROOM
    if (agent.rooms.has(room)) return ReplyCode.OK
    if (agent.rooms.size >= this.p.maxRooms) return ReplyCode.ROOM_LIMIT
    const canJoin = this.p.canJoin
    if (canJoin !== undefined) {
      let allowed: boolean
      try {
        allowed = await canJoin(agent, room) === true
      } catch (err) {
        agent.log.warn({ err, room }, 'canJoin failed; subscribe refused')
        allowed = false
      }
      if (!allowed) return ReplyCode.NOT_ALLOWED
    }
    try {
      this.p.membership.join(agent, room)
      return ReplyCode.OK
    } catch (err) {
      // Another join took the last place while canJoin ran.
      return (err as { code?: string }).code === 'FST_GATE_ROOM_LIMIT' ? ReplyCode.ROOM_LIMIT : ReplyCode.INVALID_ROOM
    }
  }

  /** A client's unsubscribe: always `''` (leaving a room one is not in is a no-op). */
  unsubscribe (agent: Agent, room: string): string {
    this.p.membership.leave(agent, room)
    return ReplyCode.OK
  }

  /** (RequestPairing) A `Gate_Request` arrived: the connection's next message is that request. */
  expect (agent: Agent, body: unknown): void {
    if (!this.pending.has(agent)) this.announced++
    this.pending.set(agent, (body as { id: number }).id)
  }

  /** (RequestPairing) The answer of the request the connection's next message is, if one was announced. */
  take (agent: Agent): RequestAnswer | undefined {
    if (this.announced === 0) return undefined
    const id = this.pending.get(agent)
    if (id === undefined) return undefined
    this.pending.delete(agent)
    this.announced--
    return (to, code, msg) => { this.reply(to, id, code, msg) }
  }

  /** `Gate_Reply { id, code, answer }`, then the answer: written in one go, so nothing comes between them. */
  private reply (agent: Agent, id: number, code: string, msg: OutboundMessage | undefined): void {
    if (!agent.isOpen) return
    agent.write(this.p.encode(CONTROL_NAMES.reply, msg === undefined ? { id, code } : { id, code, answer: true }))
    if (msg !== undefined) agent.write(msg)
  }
}

/** Adds the control types the application's Root does not declare (see `controlTypes`). */
function addTypes (root: RootLike): void {
  for (const [name, descriptor] of Object.entries(controlTypes)) {
    if (root.lookup(name) !== null) continue
    root.add(protobufType(name, descriptor))
  }
}

function protobufType (name: string, descriptor: (typeof controlTypes)[string]): protobuf.Type {
  return protobuf.Type.fromJSON(name, descriptor)
}
