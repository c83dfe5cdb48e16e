import type { Agent } from '../../agent.js'
import type { KickResult } from '../../answers.js'
import { CloseCode } from '../../close-codes.js'
import type { GateLogger } from '../../logger.js'
import type { KickTarget } from '../../operations/operation.js'
import type { SessionStore } from '../../session/store.js'

/** What MQTT sessions need from the gate (the `Gate` is one). */
export interface MqttSessionHost {
  /** [session] Where a persistent session is kept: the gate's session store (memory, or Redis in cluster mode). */
  readonly sessions: { readonly store: SessionStore | undefined }
  /** [history] The position of the last kept message written to a connection, when it tracks positions. */
  readonly history: { position (agent: Agent<any>): string | undefined }
  /** [room history] The position of the last kept message of `room` written to a connection, when it tracks the room. */
  readonly roomHistory: { position (agent: Agent<any>, room: string): string | undefined }
  /** Closes connections, on any node, with 4002 (replaced). */
  replace (target: KickTarget, reason: string): Promise<KickResult>
  /** The gate's shared timer (on its runtime face). */
  readonly runtime: { onSweep (fn: (now: number) => void): void }
  readonly log: GateLogger
}

/** A persistent session as stored: whose it is, where its uid's history stands for it, its rooms, the connection holding it. */
export interface SessionRecord {
  uid: string
  /** The position of the last kept message written to it (`''`: none yet). */
  pos: string
  rooms: string[]
  /** [room history] Each room's position of the last kept room message written to it. */
  roomPos: Record<string, string>
  /** The id of the connection that holds it, `''` while none does. */
  agent: string
}

/** What a CONNECT gets of its client id's session. */
export interface Opened {
  /** CONNACK's session present flag. */
  present: boolean
  /** Resume from here, and rejoin these rooms (persistent sessions only). */
  resume?: { pos: string, rooms: string[], roomPos: Record<string, string> }
}

/** The close reason of a connection whose client id was taken over; it does not save its session (the new holder has it). */
export const TAKEN_OVER = 'taken over: the same client id connected again'

/** Open sessions are saved at most this often when they change (ms), on the gate's timer. */
const SAVE_EVERY = 1000

/**
 * The store key of a client id's session, beside the uids' own session data
 * (no uid the applications hand out starts with NUL).
 */
export const sessionKey = (clientId: string): string => `\0mqtt\0${clientId}`

interface Held {
  readonly clientId: string
  readonly uid: string
  pos: string
  rooms: string
  /** JSON of `SessionRecord.roomPos`. */
  roomPos: string
  saved: number
}

/**
 * MQTT client ids (docs/protocol.md section 7): which connection holds each
 * one, and the persistent sessions (clean session 0) of those that logged in
 * by their CONNECT password. A session belongs to the uid that made it: a
 * client id is not a credential, so only a login as that uid gets the session
 * back or takes its connection over.
 *
 * A persistent session is kept in the gate's session store under
 * `sessionKey(clientId)`: its uid, its position in the uid's history and its
 * rooms. It is saved when it opens, when its replay is done, at most every
 * second while they change, and when its connection closes (not when it was taken over: the new
 * connection holds it then); it expires `expiry` ms after its last save.
 */
export class MqttSessions {
  readonly expiry: number
  private readonly host: MqttSessionHost
  /** This node's connection holding each `<uid> NUL <client id>`, and the other way round. */
  private readonly holders = new Map<string, Agent<any>>()
  private readonly held = new Map<Agent<any>, string>()
  /** Persistent sessions of this node's connections. */
  private readonly open = new Map<Agent<any>, Held>()
  private lastSave = 0

  constructor (host: MqttSessionHost, expiry: number) {
    this.host = host
    this.expiry = expiry
    host.runtime.onSweep(now => { this.sweep(now) })
  }

  /** The stored session of `clientId`, or `undefined` (none, not kept, unreadable: logged). */
  async load (clientId: string, log: GateLogger): Promise<SessionRecord | undefined> {
    const store = this.host.sessions.store
    if (store === undefined || clientId === '') return undefined
    try {
      const data = await store.load(sessionKey(clientId))
      return data === undefined ? undefined : parseRecord(data)
    } catch (err) {
      log.warn({ err, clientId }, 'MQTT session load failed; connected without it')
      return undefined
    }
  }

  /**
   * A connection logged in by its CONNECT password with `clientId` (the uid
   * bound): takes the client id over from the connections that hold it (this
   * node's, and the stored session's on any node), and opens its session.
   * Synchronous up to the CONNACK, so that nothing is written before it.
   */
  opened (agent: Agent<any>, clientId: string, clean: boolean, record: SessionRecord | undefined): Opened {
    const uid = agent.uid!
    const mine = record !== undefined && record.uid === uid
    const key = `${uid}\0${clientId}`
    const older = new Set<string>()
    const holder = this.holders.get(key)
    if (holder !== undefined && holder !== agent && holder.isOpen) older.add(holder.id)
    if (mine && record.agent !== '' && record.agent !== agent.id) older.add(record.agent)
    this.holders.set(key, agent)
    this.held.set(agent, key)
    if (older.size > 0) {
      agent.log.info({ clientId, replaced: [...older] }, 'MQTT client id taken over: the older connection is closed (4002)')
      this.host.replace({ agents: [...older] }, TAKEN_OVER).catch((err: unknown) => { agent.log.warn({ err, clientId }, 'MQTT takeover failed') })
    }
    const store = this.host.sessions.store
    if (clean || store === undefined) {
      // Clean session: a stored one of this uid ends here (MQTT 3.1.1 section 3.1.2.4).
      if (mine) store?.delete(sessionKey(clientId)).catch((err: unknown) => { agent.log.warn({ err, clientId }, 'MQTT session delete failed') })
      return { present: false }
    }
    // A client id whose session is another uid's keeps it until it expires; this connection's is not kept.
    if (record !== undefined && !mine) return { present: false }
    const roomPos = mine ? record.roomPos : {}
    const held: Held = { clientId, uid, pos: mine ? record.pos : '', rooms: JSON.stringify(mine ? record.rooms : []), roomPos: JSON.stringify(roomPos), saved: 0 }
    this.open.set(agent, held)
    this.save(agent, held, Date.now())
    return { present: mine, resume: { pos: held.pos, rooms: mine ? record.rooms : [], roomPos } }
  }

  /** The replay is done, up to `pos`: saved at once, so that a takeover right after it does not replay it again. */
  resumed (agent: Agent<any>, pos: string): void {
    const held = this.open.get(agent)
    if (held === undefined || !agent.isOpen) return
    this.snapshot(agent, held)
    if (held.pos === '') held.pos = pos
    this.save(agent, held, Date.now())
  }

  /** Whether the connection holds a persistent session (its rooms then track positions without asking). */
  persistent (agent: Agent<any>): boolean {
    return this.open.has(agent)
  }

  /** The connection is closing: its client id is free, and its session saved as it is now. */
  closed (agent: Agent<any>): void {
    const key = this.held.get(agent)
    this.held.delete(agent)
    if (key !== undefined && this.holders.get(key) === agent) this.holders.delete(key)
    const held = this.open.get(agent)
    if (held === undefined) return
    this.open.delete(agent)
    const why = agent.closeReason
    if (why?.code === CloseCode.REPLACED && why.reason === TAKEN_OVER) return
    this.snapshot(agent, held)
    this.write(held, '')
  }

  private sweep (now: number): void {
    if (this.open.size === 0 || now - this.lastSave < SAVE_EVERY) return
    this.lastSave = now
    for (const [agent, held] of this.open) {
      if (!agent.isOpen) continue
      const { pos, rooms, roomPos } = held
      this.snapshot(agent, held)
      if (held.pos !== pos || held.rooms !== rooms || held.roomPos !== roomPos || now - held.saved >= this.expiry / 4) this.save(agent, held, now)
    }
  }

  /** The connection's position and rooms, while it is still the session's uid (a later login as another uid is not its). */
  private snapshot (agent: Agent<any>, held: Held): void {
    if (agent.uid !== held.uid) return
    held.pos = this.host.history.position(agent) ?? held.pos
    held.rooms = JSON.stringify([...agent.rooms])
    // [room history] a room whose resume has not read its stream yet keeps its saved position
    const before = JSON.parse(held.roomPos) as Record<string, string>
    const now: Record<string, string> = {}
    for (const room of agent.rooms) {
      const pos = this.host.roomHistory.position(agent, room) ?? before[room]
      if (pos !== undefined) now[room] = pos
    }
    held.roomPos = JSON.stringify(now)
  }

  private save (agent: Agent<any>, held: Held, now: number): void {
    held.saved = now
    this.write(held, agent.id)
  }

  private write (held: Held, agent: string): void {
    const data = { uid: held.uid, pos: held.pos, rooms: held.rooms, roomPos: held.roomPos, agent }
    this.host.sessions.store?.save(sessionKey(held.clientId), data, this.expiry).catch((err: unknown) => {
      this.host.log.warn({ err, clientId: held.clientId }, 'MQTT session save failed')
    })
  }
}

function parseRecord (data: Record<string, string>): SessionRecord | undefined {
  const { uid, pos, rooms, roomPos, agent } = data
  if (typeof uid !== 'string' || uid === '') return undefined
  const list = parseJson(rooms, [])
  const positions = parseJson(roomPos, {})
  return {
    uid,
    pos: pos ?? '',
    rooms: Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [],
    // a session saved before room history has none
    roomPos: typeof positions === 'object' && positions !== null && !Array.isArray(positions)
      ? Object.fromEntries(Object.entries(positions).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {},
    agent: agent ?? ''
  }
}

function parseJson (text: string | undefined, fallback: unknown): unknown {
  try {
    return text === undefined ? fallback : JSON.parse(text)
  } catch {
    return fallback
  }
}
