import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { Agent } from './agent.js'
import { GateError } from './errors.js'
import type { DefaultMessages } from './message-map.js'

export type { AnyMessages, DefaultMessages, GateMessages, MessageBodies, MessageName } from './message-map.js'

/**
 * A message handler: one call per inbound message, in order per connection. For a
 * message registered with `answer`, what it returns (or resolves to), when not
 * undefined, is sent back as that message: to a request, as its answer
 * (docs/protocol.md section 10); to a plain message, as a plain message.
 */
export type Handler<T = unknown, M extends object = DefaultMessages> = (msg: T, agent: Agent<M>) => unknown

export interface MessageOptions<S extends TSchema = TSchema> {
  /** TypeBox schema of the body. It is compiled once and checked before any handler runs (1007 on failure). */
  schema?: S
  /**
   * Whether the message may only arrive after login (`agent.bind`). Left unset, it
   * follows the gate: required once any message is registered with `login: true`.
   */
  needsLogin?: boolean
  /** Marks the login message. It is always allowed before login, and its presence turns the login requirement on. */
  login?: boolean
  /** Explicit protobuf id (0..65535). If any message has one, every message must. */
  id?: number
  /**
   * Keep this message in each receiving uid's history when it is pushed to uids
   * (`gate.pushToUids`), so that a client that resumes gets what it missed
   * (docs/sessions.md). Server-to-client messages only.
   */
  history?: boolean
  /**
   * Keep this message in the room's history when it is pushed to a room
   * (`gate.pushToRoom`, `POST /gate/rooms/:room/push`), so that a client that
   * subscribes again with the room position it last saw gets what it missed
   * (docs/sessions.md, docs/protocol.md section 10). Server-to-client messages only.
   */
  roomHistory?: boolean
  /**
   * The registered message a handler's return value is sent as (request/response,
   * docs/protocol.md section 10). Default: none (a return value is ignored; a
   * request is answered with an empty acknowledgement once the handler finished).
   */
  answer?: string
}

/**
 * Why `body` fails a message's compiled schema: its first error as
 * `<path> <message>` (`/` for the root), or undefined when the checker names
 * none. Called only after `check.Check(body)` failed (the fast path stays one
 * compiled check).
 */
export function schemaError (check: TypeCheck<TSchema>, body: unknown): string | undefined {
  const first = check.Errors(body).First()
  return first === undefined ? undefined : `${first.path || '/'} ${first.message}`
}

/** A registered message, as the decoder and dispatcher see it. */
export interface MessageDef {
  readonly name: string
  /** Position in the id table (protobuf), fixed when the registry is frozen. */
  id: number
  readonly schema: TSchema | undefined
  readonly check: TypeCheck<TSchema> | undefined
  readonly login: boolean
  /** Kept in history when pushed to uids. */
  readonly history: boolean
  /** Kept in the room's history when pushed to a room. */
  readonly roomHistory: boolean
  readonly explicitId: number | undefined
  readonly explicitNeedsLogin: boolean | undefined
  /** The message the handler's return value is sent as. */
  readonly answer: string | undefined
  /** Resolved when frozen: explicit `needsLogin`, else whether login is configured. */
  needsLogin: boolean
  handler: Handler<any> | undefined
}

const MAX_ID = 0xffff

/**
 * Messages by name and by id. Registration order gives the default ids (leaf's
 * rule); the table is frozen when the gate becomes ready, because clients and
 * the id table must not change under live connections.
 */
export class MessageRegistry {
  private readonly byName = new Map<string, MessageDef>()
  private byIdTable: (MessageDef | undefined)[] = []
  private frozen = false

  register<S extends TSchema> (name: string, opts: MessageOptions<S> = {}, handler?: Handler<Static<S>, any>): MessageDef {
    if (this.frozen) throw new GateError.REGISTRY_FROZEN(name)
    if (typeof name !== 'string' || name.length === 0) throw new GateError.INVALID_MESSAGE(String(name), 'the name must be a non-empty string')
    if (this.byName.has(name)) throw new GateError.DUPLICATE_MESSAGE(name)
    if (opts.id !== undefined && (!Number.isInteger(opts.id) || opts.id < 0 || opts.id > MAX_ID)) {
      throw new GateError.INVALID_MESSAGE(name, `id must be an integer in 0..${MAX_ID}`)
    }
    const def: MessageDef = {
      name,
      id: this.byName.size,
      schema: opts.schema,
      check: opts.schema ? TypeCompiler.Compile(opts.schema) : undefined,
      login: opts.login === true,
      history: opts.history === true,
      roomHistory: opts.roomHistory === true,
      explicitId: opts.id,
      explicitNeedsLogin: opts.needsLogin,
      answer: opts.answer,
      needsLogin: opts.needsLogin ?? false,
      handler
    }
    this.byName.set(name, def)
    return def
  }

  handle (name: string, handler: Handler<any>): void {
    const def = this.byName.get(name)
    if (!def) throw new GateError.UNKNOWN_MESSAGE(name)
    def.handler = handler
  }

  get (name: string): MessageDef | undefined {
    return this.byName.get(name)
  }

  byId (id: number): MessageDef | undefined {
    return this.byIdTable[id]
  }

  list (): MessageDef[] {
    return [...this.byName.values()]
  }

  get isFrozen (): boolean {
    return this.frozen
  }

  /** Whether any message is marked `login: true`. */
  get loginConfigured (): boolean {
    for (const def of this.byName.values()) if (def.login) return true
    return false
  }

  /**
   * Fixes ids and login requirements. `ids` (name -> id) overrides per-message ids;
   * if any id is explicit, all must be, and they must be unique.
   */
  freeze (ids?: Record<string, number>): void {
    if (this.frozen) return
    const defs = this.list()
    const loginOn = this.loginConfigured
    const explicit = defs.map(d => ids?.[d.name] ?? d.explicitId)
    const anyExplicit = explicit.some(id => id !== undefined)
    const seen = new Map<number, string>()
    defs.forEach((def, i) => {
      if (anyExplicit) {
        const id = explicit[i]
        if (id === undefined) throw new GateError.INVALID_OPTION('ids', `message "${def.name}" has no explicit id while others do`)
        if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new GateError.INVALID_OPTION('ids', `id of "${def.name}" must be an integer in 0..${MAX_ID}`)
        const other = seen.get(id)
        if (other !== undefined) throw new GateError.INVALID_OPTION('ids', `"${def.name}" and "${other}" share id ${id}`)
        seen.set(id, def.name)
        def.id = id
      } else {
        def.id = i
      }
      def.needsLogin = def.login ? false : (def.explicitNeedsLogin ?? loginOn)
    })
    for (const def of defs) {
      if (def.answer !== undefined && !this.byName.has(def.answer)) throw new GateError.INVALID_MESSAGE(def.name, `its answer "${def.answer}" is not a registered message`)
    }
    if (ids) {
      for (const name of Object.keys(ids)) {
        if (!this.byName.has(name)) throw new GateError.INVALID_OPTION('ids', `"${name}" is not a registered message`)
      }
    }
    this.byIdTable = []
    for (const def of defs) this.byIdTable[def.id] = def
    this.frozen = true
  }
}
