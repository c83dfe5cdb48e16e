import { isUtf8 } from 'node:buffer'
import sjson from 'secure-json-parse'
import type { MessageDef, MessageRegistry } from '../messages.js'
import { badBody, badEnvelope } from '../protocol-error.js'
import type { Decoded, Processor } from './processor.js'

/**
 * leaf's JSON processor: a payload is an object with exactly one key, the message
 * name, whose value is the body:
 *
 *     {"C2S_UserLogin":{"token":"...","login_plat":1}}
 *
 * Parsing rejects `__proto__` and `constructor.prototype` keys anywhere (1002);
 * a payload that is not valid UTF-8 is 1007, whatever the transport.
 */
export class JsonProcessor implements Processor {
  readonly encoding = 'json'
  readonly text = true
  private registry!: MessageRegistry
  /** `{"name":` per message, JSON-escaped once. */
  private readonly prefixes = new Map<MessageDef, string>()

  init (registry: MessageRegistry): void {
    this.registry = registry
    for (const def of registry.list()) this.prefixes.set(def, '{' + JSON.stringify(def.name) + ':')
  }

  decode (payload: Buffer): Decoded {
    const doc = parse(payload, badEnvelope)
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw badEnvelope('the payload is not a JSON object')
    let name: string | undefined
    for (const key in doc) {
      if (name !== undefined) throw badEnvelope('the payload has more than one key')
      name = key
    }
    if (name === undefined) throw badEnvelope('the payload has no message name')
    const def = this.registry.get(name)
    if (def === undefined) throw badEnvelope(`message "${name.slice(0, 64)}" is not registered`)
    const body = (doc as Record<string, unknown>)[name]
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badBody(`the body of "${name}" is not an object`)
    return { def, body }
  }

  /** A body alone (MQTT's payload): a JSON object, parsed as safely as an envelope. */
  decodeBody (def: MessageDef, bytes: Buffer): unknown {
    const body = parse(bytes, badBody)
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badBody(`the body of "${def.name}" is not an object`)
    return body
  }

  /** The body's bytes inside an envelope this processor encoded: after `{"name":`, before the last `}`. */
  bodyOf (payload: Buffer, def: MessageDef): Buffer {
    return payload.subarray(Buffer.byteLength(this.prefixes.get(def)!), payload.length - 1)
  }

  encode (def: MessageDef, body: unknown): Buffer {
    const json = JSON.stringify(body ?? {})
    return Buffer.from(this.prefixes.get(def) + json + '}', 'utf8')
  }
}

/** UTF-8 JSON, without prototype-pollution keys; `fail` makes the error of a document that does not parse. */
function parse (bytes: Buffer, fail: (message: string) => Error): unknown {
  // Invalid UTF-8 would otherwise turn into U+FFFD silently (ws checks text frames, not binary ones or TCP).
  if (!isUtf8(bytes)) throw badBody('the payload is not valid UTF-8')
  try {
    return sjson.parse(bytes.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    throw fail(`not valid JSON: ${(err as Error).message}`)
  }
}
