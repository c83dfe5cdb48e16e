import { OutboundMessage } from '../codec/outbound.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import { wireFormOf, type Ask, type Share } from '../operations/operation.js'

/*
 * One message on the cluster bus:
 *
 *   | headerLen : uint32 BE | header : UTF-8 JSON | payload : the rest |
 *
 * The payload is an already encoded application message (the bytes a
 * WebSocket client receives), so a push is encoded once on the requesting node
 * and only wrapped, not re-encoded, on the others.
 */

/**
 * An ask as it travels: `op`, the fields of its wire form's head and, when it
 * carries a message, the message's name and text flag (its bytes are the payload).
 */
export interface WireHead {
  readonly op: string
  readonly msg?: { readonly name: string, readonly text: boolean }
  readonly [field: string]: unknown
}

/** What one node is asked: a head and, with a message, its bytes. */
export interface Target { head: WireHead, payload?: Buffer }

/** The request for the node holding `share` of the ask's targets; throws for an op without a wire form. */
export function requestOf (ask: Ask, share: Share): Target {
  const head = wireFormOf(ask.op).head(ask, share)
  if (!('msg' in ask)) return { head: { op: ask.op, ...head } }
  const { name, text, payload } = ask.msg
  return { head: { op: ask.op, ...head, msg: { name, text } }, payload }
}

/**
 * The ask another node sent, with its message wrapped here (encoded there);
 * throws for an op without a wire form.
 */
export function operationOf (head: WireHead, payload: Buffer, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): Ask {
  const form = wireFormOf(head.op)
  const msg = head.msg === undefined ? undefined : new OutboundMessage(head.msg.name, payload, head.msg.text, framing)
  return form.rebuild(head, msg)
}

export type Header =
  | { t: 'req', id: number, from: string, head: WireHead }
  /** `n`: connections written or closed on the answering node; a `figures` answer has a payload. */
  | { t: 'res', id: number, from: string, n: number }

export interface Envelope { header: Header, payload: Buffer }

export function encodeEnvelope (header: Header, payload?: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header))
  const prefix = Buffer.allocUnsafe(4)
  prefix.writeUInt32BE(json.length)
  return Buffer.concat(payload === undefined ? [prefix, json] : [prefix, json, payload])
}

/** Returns `undefined` for bytes that are not an envelope (logged and dropped by the bus). */
export function decodeEnvelope (bytes: Buffer): Envelope | undefined {
  if (bytes.length < 4) return undefined
  const len = bytes.readUInt32BE(0)
  if (bytes.length < 4 + len) return undefined
  try {
    const header = JSON.parse(bytes.toString('utf8', 4, 4 + len)) as Header
    if (typeof header !== 'object' || header === null) return undefined
    if (header.t === 'req' ? typeof header.head?.op !== 'string' : header.t !== 'res') return undefined
    return { header, payload: bytes.subarray(4 + len) }
  } catch {
    return undefined
  }
}
