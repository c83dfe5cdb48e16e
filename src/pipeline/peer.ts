import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import type { NormalizedCoreOptions } from '../options.js'
import type { ProtocolError } from '../protocol-error.js'
import type { Credentials, ProtocolPeer } from '../protocol/protocol.js'

/** What a peer needs from the gate. */
export interface PeerHost {
  readonly options: NormalizedCoreOptions
  readonly messages: MessageRegistry
  readonly processor: Processor
  reject (agent: Agent<any>, err: ProtocolError): void
  authenticateAgent (agent: Agent<any>, credentials: Credentials): Promise<boolean>
}

/** A protocol session's handle on its connection. */
export class Peer implements ProtocolPeer {
  readonly agent: Agent<any>
  private readonly host: PeerHost

  constructor (host: PeerHost, agent: Agent<any>) {
    this.host = host
    this.agent = agent
  }

  get transport (): Agent['transport'] { return this.agent.transport }
  get options (): NormalizedCoreOptions { return this.host.options }
  get messages (): MessageRegistry { return this.host.messages }
  get processor (): Processor { return this.host.processor }

  receive (payload: Buffer, wireBytes: number): void {
    this.agent.receive(payload, wireBytes)
  }

  deliver (def: MessageDef, body: unknown, wireBytes: number): boolean {
    return this.agent.receiveDecoded(def, body, wireBytes)
  }

  received (wireBytes: number): void {
    this.agent.received(wireBytes)
  }

  sendRaw (bytes: Buffer): boolean {
    return this.agent.write(OutboundMessage.raw(bytes))
  }

  reject (err: ProtocolError): void {
    this.host.reject(this.agent, err)
  }

  async authenticate (credentials: Credentials): Promise<boolean> {
    return await this.host.authenticateAgent(this.agent, credentials)
  }

  handshake (pending: boolean): void {
    this.agent.handshakePending = pending
  }

  keepAlive (ms: number): void {
    this.agent.keepAliveMs = ms
  }
}
