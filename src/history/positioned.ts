import protobuf from 'protobufjs'
import { GateError } from '../errors.js'
import type { Processor } from '../codec/processor.js'
import type { ProtobufProcessor } from '../codec/protobuf.js'
import type { MessageDef } from '../messages.js'

/**
 * Adds the position field to an already encoded payload, without decoding it,
 * for the connections that asked for positions (docs/protocol.md section 8):
 *
 * - JSON, `{"Name":{...}}` as the gate encodes it: the field goes in last,
 *   `{"Name":{...,"gate_pos":"e:7"}}`;
 * - protobuf, `| id | body |`: the field is appended to the body as one more
 *   length-delimited field (a parser reads fields in any order, and a field
 *   written twice takes the last value), so `| id | body | tag | len | "e:7" |`.
 *
 * Other processors cannot carry positions.
 */
export type AddPosition = (payload: Buffer, token: string) => Buffer

/** Builds the function for `def`, or throws `FST_GATE_INVALID_MESSAGE` when its encoding cannot carry `field`. */
export function positioner (processor: Processor, def: MessageDef, field: string): AddPosition {
  if (processor.encoding === 'json') {
    const key = JSON.stringify(field)
    return (payload, token) => {
      // payload ends with `}}`; an empty body is `{}`, so no comma before the field.
      const empty = payload[payload.length - 3] === 0x7b
      return Buffer.concat([payload.subarray(0, payload.length - 2), Buffer.from(`${empty ? '' : ','}${key}:${JSON.stringify(token)}}}`)])
    }
  }
  if (processor.encoding === 'protobuf') {
    const type = (processor as ProtobufProcessor).root.lookupType(def.name)
    const f = type.fields[field]
    if (f === undefined || f.type !== 'string' || f.repeated) {
      throw new GateError.INVALID_MESSAGE(def.name, `history needs a string field "${field}" in its protobuf type (the position)`)
    }
    const tag = (f.id << 3) | 2
    return (payload, token) => Buffer.concat([payload, protobuf.Writer.create().uint32(tag).string(token).finish()])
  }
  throw new GateError.INVALID_MESSAGE(def.name, `history positions need the json or protobuf encoding, not "${processor.encoding}"`)
}
