import protobuf from 'protobufjs/light.js'
import type { ClientMessage, Codec } from './codec.js'
import { GateClientError } from './errors.js'
import type { Payload } from './transport.js'

export interface ProtobufCodecOptions {
  /** A protobufjs Root, or its JSON descriptor (what `GET /gate/protocol` serves as `schema`). */
  root: protobuf.Root | protobuf.INamespace
  /** The id table: name -> id, or the names in id order (the gate's default: registration order). */
  ids: Record<string, number> | readonly string[]
  /** Little-endian id, as the gate's `littleEndian`. Default false. */
  littleEndian?: boolean
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true }

/**
 * The protobuf codec (docs/protocol.md section 1):
 *
 *     | id : uint16 | protobuf-encoded body |
 *
 * Uses protobufjs/light (no .proto parser): give a loaded Root or a JSON
 * descriptor. protobufjs generates its encoders with `new Function`, so a page
 * under a Content-Security-Policy needs `'unsafe-eval'` for this codec.
 */
export function protobufCodec (opts: ProtobufCodecOptions): Codec {
  const root = opts.root instanceof protobuf.Root ? opts.root : protobuf.Root.fromJSON(opts.root as protobuf.INamespace)
  const ids: Record<string, number> = Array.isArray(opts.ids)
    ? Object.fromEntries((opts.ids as readonly string[]).map((name, id) => [name, id]))
    : { ...(opts.ids as Record<string, number>) }
  const names = new Map<number, string>()
  const types = new Map<string, protobuf.Type>()
  for (const [name, id] of Object.entries(ids)) {
    names.set(id, name)
    types.set(name, root.lookupType(name))
  }
  const le = opts.littleEndian === true
  return {
    encoding: 'protobuf',
    encode (name: string, body: unknown): Payload {
      const id = ids[name]
      const type = types.get(name)
      if (id === undefined || type === undefined) throw new GateClientError('GATE_CLIENT_BAD_MESSAGE', `"${name}" is not in the id table`)
      const obj = (body ?? {}) as Record<string, unknown>
      const problem = type.verify(obj)
      if (problem !== null) throw new GateClientError('GATE_CLIENT_BAD_MESSAGE', `"${name}": ${problem}`)
      const bytes = type.encode(type.fromObject(obj)).finish()
      const out = new Uint8Array(2 + bytes.length)
      new DataView(out.buffer).setUint16(0, id, le)
      out.set(bytes, 2)
      return out
    },
    decode (payload: Payload): ClientMessage {
      if (typeof payload === 'string') throw new Error('a protobuf payload arrived as text')
      if (payload.length < 2) throw new Error('the payload is shorter than its 2-byte id')
      const id = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(0, le)
      const name = names.get(id)
      if (name === undefined) throw new Error(`message id ${id} is not in the id table`)
      const type = types.get(name)!
      return { name, body: type.toObject(type.decode(payload.subarray(2)), toObjectOptions) }
    }
  }
}
