import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { RequestAnswer } from '../dispatch.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import type { NormalizedCoreOptions } from '../options.js'
import type { ProtocolError } from '../protocol-error.js'
import type { Credentials, ProtocolPeer } from '../protocol/protocol.js'

/** The parts of the gate a protocol session reaches through its peer. */
export interface PeerParts {
  readonly options: NormalizedCoreOptions
  readonly messages: MessageRegistry
  readonly processor: Processor
  readonly dispatch: {
    receive (agent: Agent, payload: Buffer): void
    dispatch (agent: Agent, def: MessageDef, body: unknown): boolean
    request (agent: Agent, def: MessageDef, body: unknown, answer: RequestAnswer): boolean
    control (agent: Agent, run: () => void | Promise<void>): boolean
    reject (agent: Agent, err: ProtocolError): void
  }
  readonly membership: { authenticate (agent: Agent, credentials: Credentials): Promise<boolean> }
  readonly control: { subscribe (agent: Agent, room: string): Promise<string>, readonly requestDef: MessageDef | undefined }
  readonly lifecycle: {
    handshake (agent: Agent, pending: boolean): void
    keepAlive (agent: Agent, ms: number): void
  }
}

/**
 * A protocol session's handle on its connection: where the protocol's
 * messages enter the gate. Each is counted on the agent, then goes to
 * dispatch (decode, schema, queue, handler).
 */
export class Peer implements ProtocolPeer {
  readonly agent: Agent<any>
  private readonly parts: PeerParts

  constructor (parts: PeerParts, agent: Agent<any>) {
    this.parts = parts
    this.agent = agent
  }

  get transport (): Agent['transport'] { return this.agent.transport }
  get options (): NormalizedCoreOptions { return this.parts.options }
  get messages (): MessageRegistry { return this.parts.messages }
  get processor (): Processor { return this.parts.processor }

  receive (payload: Buffer, wireBytes: number): void {
    if (!this.agent.isOpen) return
    this.agent.countIn(wireBytes, 1)
    this.parts.dispatch.receive(this.agent, payload)
  }

  deliver (def: MessageDef, body: unknown, wireBytes: number): boolean {
    if (!this.agent.isOpen) return false
    this.agent.countIn(wireBytes, 1)
    return this.parts.dispatch.dispatch(this.agent, def, body)
  }

  received (wireBytes: number): void {
    this.agent.countIn(wireBytes, 0)
  }

  get requests (): boolean { return this.parts.control.requestDef !== undefined }

  request (def: MessageDef, body: unknown, wireBytes: number, answer: RequestAnswer): boolean {
    if (!this.agent.isOpen || !this.requests) return false
    this.agent.countIn(wireBytes, 1)
    return this.parts.dispatch.request(this.agent, def, body, answer)
  }

  async subscribe (room: string): Promise<string> {
    return await this.parts.control.subscribe(this.agent, room)
  }

  control (wireBytes: number, run: () => void | Promise<void>): boolean {
    if (!this.agent.isOpen) return false
    this.agent.countIn(wireBytes, 0)
    return this.parts.dispatch.control(this.agent, run)
  }

  sendRaw (bytes: Buffer): boolean {
    return this.agent.write(OutboundMessage.raw(bytes))
  }

  reject (err: ProtocolError): void {
    this.parts.dispatch.reject(this.agent, err)
  }

  async authenticate (credentials: Credentials): Promise<boolean> {
    return await this.parts.membership.authenticate(this.agent, credentials)
  }

  handshake (pending: boolean): void {
    this.parts.lifecycle.handshake(this.agent, pending)
  }

  keepAlive (ms: number): void {
    this.parts.lifecycle.keepAlive(this.agent, ms)
  }
}
