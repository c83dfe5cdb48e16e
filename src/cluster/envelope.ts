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

/** `b: 1`: the sending node reads batches (below), so it may be sent them. */
export type Header =
  | { t: 'req', id: number, from: string, head: WireHead, b?: 1 }
  /** `n`: connections written or closed on the answering node; a `figures` answer has a payload. */
  | { t: 'res', id: number, from: string, n: number, b?: 1 }

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

/*
 * A batch: the envelopes of one event-loop turn for one node, in one bus message.
 *
 *   | 0xFFFFFFFF | count : uint32 BE | (length : uint32 BE | envelope) * count |
 *
 * No envelope starts with 0xFFFFFFFF (a 4 GiB header). A node of a version
 * without batches drops one as "not an envelope", so a node sends batches
 * only to nodes whose own envelopes said `b: 1`.
 */
const BATCH = 0xffffffff

export function encodeBatch (envelopes: readonly Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(8 + 4 * envelopes.length)
  head.writeUInt32BE(BATCH, 0)
  head.writeUInt32BE(envelopes.length, 4)
  const parts: Buffer[] = [head.subarray(0, 8)]
  envelopes.forEach((envelope, i) => {
    const prefix = head.subarray(8 + 4 * i, 12 + 4 * i)
    prefix.writeUInt32BE(envelope.length)
    parts.push(prefix, envelope)
  })
  return Buffer.concat(parts)
}

/**
 * The envelopes of a batch; `undefined` when `bytes` is not a batch (then it
 * is one envelope, or not one); what follows a malformed part is dropped.
 */
export function splitBatch (bytes: Buffer): Buffer[] | undefined {
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== BATCH) return undefined
  const count = bytes.readUInt32BE(4)
  const envelopes: Buffer[] = []
  let at = 8
  for (let i = 0; i < count && at + 4 <= bytes.length; i++) {
    const len = bytes.readUInt32BE(at)
    if (at + 4 + len > bytes.length) break
    envelopes.push(bytes.subarray(at + 4, at + 4 + len))
    at += 4 + len
  }
  return envelopes
}
