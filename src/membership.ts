import type { Agent } from './agent.js'
import type { SettingsResult } from './answers.js'
import { CloseCode } from './close-codes.js'
import type { Directory } from './directory/directory.js'
import { GateError } from './errors.js'
import { isName, isUid } from './identity.js'
import type { History } from './history/history.js' // [history]
import type { BindOptions, Recovery } from './history/recovery.js' // [history]
import type { RoomHistory } from './history/room-history.js' // [room history]
import type { LoginThrottle } from './limits/login-throttle.js'
import type { AgentIndex } from './agent-index.js'
import type { GateLogger } from './logger.js'
import type { Operations } from './operations/operations.js'
import type { MultiLoginPolicy } from './options.js'
import type { Credentials } from './protocol/protocol.js'
import type { Sessions } from './session/sessions.js' // [session]
import type { SessionSettings } from './session/settings.js' // [session]

/**
 * Checks credentials a protocol received at connect (MQTT CONNECT's password)
 * and binds the uid when they are valid (`agent.bind`). Return false (or throw)
 * to refuse them.
 */
export type Authenticator<A extends Agent<any> = Agent<any>> = (agent: A, credentials: Credentials) => boolean | Promise<boolean>

/** What membership works with. */
export interface MembershipParts {
  readonly multiLogin: MultiLoginPolicy
  /** Rooms one connection may be in (every protocol). */
  readonly maxRooms: number
  readonly local: AgentIndex
  readonly directory: Directory
  readonly operations: Operations
  readonly logins: LoginThrottle
  readonly sessions: Sessions
  readonly history: History
  readonly roomHistory: RoomHistory
  readonly log: GateLogger
}

/**
 * Who a connection is and where it is: login (the multi-login policy, the
 * credentials of a protocol's connect, the login throttle's refund), bind and
 * unbind, rooms, and the session settings that go with a uid. Changes go to
 * this node's index first, then to the directory's presence.
 */
export class Membership {
  /** Set by `Gate.authenticate`. */
  authenticator: Authenticator | undefined = undefined
  private readonly p: MembershipParts

  constructor (parts: MembershipParts) {
    this.p = parts
  }

  async bind (agent: Agent, uid: string, opts?: BindOptions): Promise<Recovery | undefined> {
    const { local, sessions } = this.p
    if (!isUid(uid)) throw new GateError.INVALID_UID()
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uid === uid) {
      // Bound already (MQTT: by the CONNECT password), then a login message that asks to resume:
      // [history] positions and replay start here, as after a fresh bind.
      return opts?.resume !== undefined ? await this.p.history.resume(agent, uid, opts.resume) : undefined
    }
    const policy = this.p.multiLogin
    if (policy === 'reject') {
      if (await this.isOnline(uid)) throw new GateError.UID_IN_USE(uid)
    } else if (policy === 'replace') {
      await this.p.operations.kick({ uids: [uid], except: agent.id }, CloseCode.REPLACED, 'replaced by a new login')
    }
    const stored = await sessions.load(uid) // [session] restored before the bind, so it is published with it
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uid !== undefined) this.unbind(agent)
    const first = local.bind(agent, uid)
    if (first === undefined) throw new GateError.NOT_CONNECTED(agent.id)
    if (stored !== undefined) this.restoreSettings(agent, stored) // [session]
    this.p.logins.succeeded(agent)
    this.p.history.loggedIn(uid) // [history]
    this.p.directory.changed({ kind: 'bound', agent, uid, first })
    // [history] positions and replay for a client that resumes
    if (opts?.resume !== undefined) return await this.p.history.resume(agent, uid, opts.resume)
    return undefined
  }

  unbind (agent: Agent): void {
    this.p.history.detach(agent) // [history]
    const gone = this.p.local.unbind(agent)
    if (gone === undefined) return
    this.p.directory.changed({ kind: 'unbound', agent, uid: gone.uid })
    this.p.sessions.loggedOut(gone.uid) // [session] an explicit logout deletes the stored session
  }

  join (agent: Agent, room: string): void {
    if (!isName(room)) throw new GateError.INVALID_ROOM()
    if (!agent.rooms.has(room) && agent.rooms.size >= this.p.maxRooms) throw new GateError.ROOM_LIMIT(this.p.maxRooms)
    if (agent.isOpen && this.p.local.join(agent, room)) this.p.directory.changed({ kind: 'joined', agent, room })
  }

  leave (agent: Agent, room: string): void {
    this.p.roomHistory.detach(agent, room) // [room history]
    if (this.p.local.leave(agent, room)) this.p.directory.changed({ kind: 'left', agent, room })
  }

  /**
   * Whether `uid` has a connection on any node. When the cluster cannot be
   * asked, this node answers alone (logins keep working).
   */
  async isOnline (uid: string): Promise<boolean> {
    if (this.p.local.agentsOf(uid) !== undefined) return true
    try {
      return await this.p.directory.user(uid) !== null
    } catch (err) {
      this.p.log.warn({ err, uid }, 'cluster unreachable; uid checked on this node only')
      return false
    }
  }

  /** Credentials from a protocol's connect: throttled per IP like login messages, then the authenticator. */
  async authenticate (agent: Agent, credentials: Credentials): Promise<boolean> {
    const check = this.authenticator
    if (check === undefined) return false
    for (let wait = this.p.logins.attempt(agent); wait > 0; wait = this.p.logins.attempt(agent)) {
      await new Promise<void>(resolve => setTimeout(resolve, wait))
      if (!agent.isOpen) return false
    }
    try {
      return await check(agent, credentials) !== false && agent.uid !== undefined
    } catch (err) {
      agent.log.warn({ err }, 'authenticator failed')
      return false
    }
  }

  /** [session] A connection's settings, reporting their changes. */
  settingsFor (agent: Agent): SessionSettings {
    return this.p.sessions.settings(() => { this.settingsChanged(agent) })
  }

  /**
   * [session] Sets and removes settings of every connection of `uid`, on every node
   * (mqant's settings push). Throws `FST_GATE_INVALID_SETTING` before sending anything.
   */
  async updateSettings (uid: string, set: Record<string, string>, remove: string[]): Promise<SettingsResult> {
    this.p.sessions.check(set, remove)
    return await this.p.operations.updateSettings(uid, set, remove)
  }

  /** [session] Republishes the connection (its settings show in `user`) and saves the uid's session. */
  private settingsChanged (agent: Agent): void {
    const uid = agent.uid
    if (uid === undefined || !agent.isOpen) return
    this.p.directory.changed({ kind: 'bound', agent, uid })
    this.p.sessions.save(uid, agent.settings)
  }

  /** [session] Applies stored settings at login, without saving them back. */
  private restoreSettings (agent: Agent, stored: Record<string, string>): void {
    try {
      agent.settings.update(stored, [], true)
    } catch (err) {
      agent.log.warn({ err }, 'stored session settings are over the bounds; not restored')
    }
  }
}
