import { GateError } from '../errors.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import { schemaError, type MessageRegistry } from '../messages.js'
import { OutboundMessage } from './outbound.js'
import type { Processor } from './processor.js'

/** The options encoding reads. */
export interface EncoderOptions extends Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'> {
  readonly maxMsgLen: number
  readonly textFrames: boolean
}

/**
 * Outbound messages, encoded once for any number of connections: the name must
 * be registered, the body must pass its schema (compiled once), and the payload
 * must fit `maxMsgLen`. Each failure is a coded `GateError`.
 */
export class Encoder {
  private readonly messages: MessageRegistry
  private readonly processor: Processor
  private readonly options: EncoderOptions

  constructor (messages: MessageRegistry, processor: Processor, options: EncoderOptions) {
    this.messages = messages
    this.processor = processor
    this.options = options
  }

  encode (name: string, body: unknown): OutboundMessage {
    const def = this.messages.get(name)
    if (def === undefined || !this.messages.isFrozen) throw new GateError.UNKNOWN_MESSAGE(name)
    if (def.check !== undefined && !def.check.Check(body)) {
      throw new GateError.INVALID_BODY(name, schemaError(def.check, body) ?? 'does not match the schema')
    }
    let payload: Buffer
    try {
      payload = this.processor.encode(def, body)
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('FST_GATE_')) throw err
      throw new GateError.INVALID_BODY(name, (err as Error).message)
    }
    const { maxMsgLen, textFrames } = this.options
    if (payload.length > maxMsgLen) throw new GateError.MESSAGE_TOO_LARGE(name, payload.length, maxMsgLen)
    return new OutboundMessage(name, payload, textFrames && this.processor.text, this.options)
  }
}
