/*
 * One message on the cluster bus:
 *
 *   | headerLen : uint32 BE | header : UTF-8 JSON | payload : the rest |
 *
 * The payload is an already encoded application message (the bytes a
 * WebSocket client receives), so a push is encoded once on the requesting node
 * and only wrapped, not re-encoded, on the others.
 */

/** What one node asks another to do with its own connections. */
export type Request =
  /** [history] `pos`: uid -> [epoch, offset] of the uids whose stream keeps the message. */
  | { op: 'push', uids: string[], name: string, text: boolean, pos?: Record<string, [string, number]> }
  /**
   * `xa`, `xu`: the connection id and the uid the push skips (except-the-sender), when given.
   * [room history] `pos`: [epoch, offset] of the message in the room's stream, when it was kept.
   */
  | { op: 'room', room: string, name: string, text: boolean, xa?: string, xu?: string, pos?: [string, number] }
  | { op: 'broadcast', loggedInOnly: boolean, name: string, text: boolean }
  | { op: 'kick', uids: string[], agents: string[], except?: string, code: number, reason: string }
  /** [session] Sets and removes settings of the uid's connections on that node. */
  | { op: 'settings', uid: string, set: Record<string, string>, remove: string[] }
  /** The answer's payload is the node's figures as JSON (`null` when it has no reporter). */
  | { op: 'figures' }

export type Header =
  | { t: 'req', id: number, from: string, req: Request }
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
    if (typeof header !== 'object' || header === null || (header.t !== 'req' && header.t !== 'res')) return undefined
    return { header, payload: bytes.subarray(4 + len) }
  } catch {
    return undefined
  }
}
