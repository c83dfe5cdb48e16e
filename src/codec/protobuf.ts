import { isUtf8 } from 'node:buffer'
import protobuf from 'protobufjs'
import { GateError } from '../errors.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import { badBody, badEnvelope } from '../protocol-error.js'
import type { Decoded, Processor } from './processor.js'

/** Where the protobuf types come from. */
export interface ProtobufOptions {
  /**
   * A loaded protobufjs Root, or the path(s) of `.proto` files to load synchronously.
   * Files are loaded with `keepCase: true`, so field names stay as written (snake_case).
   */
  root: protobuf.Root | string | string[]
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true }

class InvalidUtf8 extends Error {}

/**
 * A plain protobufjs Reader whose `string()` refuses bytes that are not valid
 * UTF-8 (protobufjs would turn them into U+FFFD and the gate would relay them).
 * The generated decoders read every string field through `reader.string()` on
 * the one reader they are given, nested messages, repeated fields and map keys
 * and values alike, so this checks the raw bytes of every string field that
 * `decode` reads, and nothing else (bytes fields and unknown fields are not text).
 */
class Utf8Reader extends protobuf.Reader {
  override string (): string {
    const bytes = this.bytes()
    if (!isUtf8(bytes)) throw new InvalidUtf8('a string field is not valid UTF-8')
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  }
}

/**
 * leaf's protobuf processor:
 *
 *     | id : uint16 | protobuf-encoded body |
 *
 * `id` is big-endian unless `littleEndian`. Each registered message name must be a
 * message type of the root (looked up by name, package prefixes allowed).
 */
export class ProtobufProcessor implements Processor {
  readonly encoding = 'protobuf'
  readonly text = false
  readonly root: protobuf.Root
  private readonly littleEndian: boolean
  private registry!: MessageRegistry
  private types: protobuf.Type[] = []

  constructor (opts: ProtobufOptions, littleEndian: boolean) {
    this.root = opts.root instanceof protobuf.Root ? opts.root : new protobuf.Root().loadSync(opts.root, { keepCase: true })
    this.root.resolveAll()
    this.littleEndian = littleEndian
  }

  init (registry: MessageRegistry): void {
    this.registry = registry
    this.types = []
    for (const def of registry.list()) {
      let type: protobuf.Type
      try {
        type = this.root.lookupType(def.name)
      } catch {
        throw new GateError.INVALID_MESSAGE(def.name, 'no protobuf message type of that name in the schema')
      }
      this.types[def.id] = type
    }
  }

  decode (payload: Buffer): Decoded {
    if (payload.length < 2) throw badEnvelope('the payload is shorter than its 2-byte id')
    const id = this.littleEndian ? payload.readUInt16LE(0) : payload.readUInt16BE(0)
    const def = this.registry.byId(id)
    if (def === undefined) throw badEnvelope(`message id ${id} is not registered`)
    return { def, body: this.decodeBody(def, payload.subarray(2)) }
  }

  decodeBody (def: MessageDef, bytes: Buffer): unknown {
    const type = this.types[def.id]
    try {
      // A plain Reader, not the BufferReader protobufjs picks for a Buffer: that one
      // cuts a string field short at the end of the input instead of failing.
      return type.toObject(type.decode(new Utf8Reader(bytes)), toObjectOptions)
    } catch (err) {
      if (err instanceof InvalidUtf8) throw badBody(`the body of "${def.name}" has ${err.message}`)
      throw badBody(`the body of "${def.name}" does not decode: ${(err as Error).message}`)
    }
  }

  /** The body's bytes: the payload after its 2-byte id. */
  bodyOf (payload: Buffer): Buffer {
    return payload.subarray(2)
  }

  encode (def: MessageDef, body: unknown): Buffer {
    const type = this.types[def.id]
    const obj = (body ?? {}) as Record<string, unknown>
    const problem = type.verify(obj)
    if (problem) throw new GateError.INVALID_BODY(def.name, problem)
    const bytes = type.encode(type.fromObject(obj)).finish()
    const out = Buffer.allocUnsafe(2 + bytes.length)
    if (this.littleEndian) out.writeUInt16LE(def.id, 0)
    else out.writeUInt16BE(def.id, 0)
    out.set(bytes, 2)
    return out
  }

  describe (): Record<string, unknown> {
    return { schema: this.root.toJSON() }
  }
}
