import { Agent, type AgentHost } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { RequestAnswer } from '../dispatch.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import type { DefaultMessages } from '../message-map.js'
import type { NormalizedCoreOptions } from '../options.js'
import type { ProtocolError } from '../protocol-error.js'
import type { Credentials, ProtocolPeer } from '../protocol/protocol.js'

/** What an agent's protocol session reaches of the gate, through the agent, besides `AgentHost`. */
export interface PeerHost extends AgentHost {
  readonly options: NormalizedCoreOptions
  readonly messages: MessageRegistry
  readonly processor: Processor
  /** The inbound half: decode, schema, queue, handler (src/dispatch.ts). */
  readonly dispatch: {
    receive (agent: Agent<any>, payload: Buffer): void
    dispatch (agent: Agent<any>, def: MessageDef, body: unknown): boolean
    request (agent: Agent<any>, def: MessageDef, body: unknown, answer: RequestAnswer): boolean
    control (agent: Agent<any>, run: () => void | Promise<void>): boolean
    reject (agent: Agent<any>, err: ProtocolError): void
  }
  readonly membership: AgentHost['membership'] & {
    authenticate (agent: Agent<any>, credentials: Credentials): Promise<boolean>
  }
  /** Client subscribes and leaf requests (src/control). */
  readonly control: { subscribe (agent: Agent<any>, room: string): Promise<string>, readonly requestDef: MessageDef | undefined }
}

/**
 * The agent of every connection, as the gate makes it (`Lifecycle.accept`): an
 * `Agent` with the members its protocol session calls (`ProtocolPeer`). Not a
 * second object: the session gets the agent itself (`Protocol.open(agent)`).
 * What the session hands it is counted on the agent, then goes to dispatch
 * (decode, schema, queue, handler). The application sees the object as an
 * `Agent` (its handlers' type), a protocol as a `ProtocolPeer`.
 */
export class PeerAgent<M extends object = DefaultMessages> extends Agent<M> implements ProtocolPeer {
  declare protected readonly host: PeerHost

  /** The agent itself: a session's `peer.agent`. */
  get agent (): this {
    return this
  }

  /** The gate's options. */
  get options (): NormalizedCoreOptions {
    return this.host.options
  }

  /** The gate's message table. */
  get messages (): MessageRegistry {
    return this.host.messages
  }

  /** The gate's codec. */
  get processor (): Processor {
    return this.host.processor
  }

  /** Whether requests are on (the `clientControl` option). */
  get requests (): boolean {
    return this.host.control.requestDef !== undefined
  }

  /** One whole payload in the gate's encoding: counted, then decoded, checked and queued. */
  receive (payload: Buffer, wireBytes: number): void {
    if (!this.isOpen) return
    this.countIn(wireBytes, 1)
    this.host.dispatch.receive(this, payload)
  }

  /** One decoded message: counted, checked and queued; false when refused. */
  deliver (def: MessageDef, body: unknown, wireBytes: number): boolean {
    if (!this.isOpen) return false
    this.countIn(wireBytes, 1)
    return this.host.dispatch.dispatch(this, def, body)
  }

  /** Inbound bytes that carry no message. */
  received (wireBytes: number): void {
    this.countIn(wireBytes, 0)
  }

  /** A message sent as a request. */
  request (def: MessageDef, body: unknown, wireBytes: number, answer: RequestAnswer): boolean {
    if (!this.isOpen || !this.requests) return false
    this.countIn(wireBytes, 1)
    return this.host.dispatch.request(this, def, body, answer)
  }

  /** A client's subscribe. */
  async subscribe (room: string): Promise<string> {
    return await this.host.control.subscribe(this, room)
  }

  /** A control packet, queued in order with the messages. */
  control (wireBytes: number, run: () => void | Promise<void>): boolean {
    if (!this.isOpen) return false
    this.countIn(wireBytes, 0)
    return this.host.dispatch.control(this, run)
  }

  /** Control bytes, through the same outbound queue and limits. */
  sendRaw (bytes: Buffer): boolean {
    return this.write(OutboundMessage.raw(bytes))
  }

  /** Closes for bad input: one capped log line and the error's close code. */
  reject (err: ProtocolError): void {
    this.host.dispatch.reject(this, err)
  }

  /** Credentials to the application's authenticator. */
  async authenticate (credentials: Credentials): Promise<boolean> {
    return await this.host.membership.authenticate(this, credentials)
  }

  /** The protocol's handshake is pending (closed after `connectTimeout`) or done. */
  handshake (pending: boolean): void {
    this.handshakePending = pending && this.isOpen
  }

  /** Nothing received for `ms` closes the connection; 0: only `idleTimeout`. */
  keepAlive (ms: number): void {
    this.keepAliveMs = ms > 0 ? ms : 0
  }
}
