import { GateError } from '../errors.js'
import { int as intOption } from '../option-checks.js'

/** Per-uid history (docs/sessions.md). Every field has a default (`historyDefaults`). */
export interface HistoryOptions {
  /** Messages kept per uid; older ones are dropped as new ones come. Default 1000. */
  maxCount?: number
  /** How long a message is kept, in ms; a uid's stream expires this long after its last message. Default 1 hour. */
  maxAge?: number
  /**
   * The body field that carries a message's position (`"<epoch>:<offset>"`) to
   * connections that asked for positions. Default `"gate_pos"`. In protobuf mode,
   * every message registered with `history: true` must declare it as a `string`.
   */
  field?: string
  /**
   * The body field that names the room of a room message's position, beside
   * `field`, for connections that subscribed to the room with a position
   * (docs/protocol.md section 10). Default `"gate_room"`. In protobuf mode, every
   * message registered with `roomHistory: true` must declare it as a `string`.
   */
  roomField?: string
  /**
   * Memory store only: the most uids with a stream; past it, a stream is dropped
   * (those of uids that never logged in first, least recently written first). Default 100,000.
   */
  maxStreams?: number
  /**
   * Memory store only: bytes all streams together may hold (payloads, plus 96
   * bytes a message and 256 a stream); past it, streams are dropped in the same
   * order as for `maxStreams`. Default 64 MiB.
   */
  maxBytes?: number
  /**
   * ms a connection waits for a message missing from the sequence (it went
   * through another node and is late) before it reads it from the store. Default 250.
   */
  gapTimeout?: number
}

export type NormalizedHistoryOptions = Required<HistoryOptions>

export const historyDefaults: NormalizedHistoryOptions = {
  maxCount: 1000,
  maxAge: 3_600_000,
  field: 'gate_pos',
  roomField: 'gate_room',
  maxStreams: 100_000,
  maxBytes: 64 * 1024 * 1024,
  gapTimeout: 250
}

const int = (option: string, value: unknown, min: number, max: number): number => intOption(`history.${option}`, value, min, max)

/** Validates the `history` option once, at register time. Throws `FST_GATE_INVALID_OPTION`. */
export function normalizeHistoryOptions (opts: HistoryOptions = {}): NormalizedHistoryOptions {
  if (typeof opts !== 'object' || opts === null) throw new GateError.INVALID_OPTION('history', 'must be an object')
  const known = new Set(Object.keys(historyDefaults))
  for (const key of Object.keys(opts)) if (!known.has(key)) throw new GateError.INVALID_OPTION(`history.${key}`, 'is not a history option')
  const o = { ...historyDefaults, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) }
  if (typeof o.field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(o.field)) {
    throw new GateError.INVALID_OPTION('history.field', 'must be an identifier of at most 64 characters')
  }
  if (typeof o.roomField !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(o.roomField) || o.roomField === o.field) {
    throw new GateError.INVALID_OPTION('history.roomField', 'must be an identifier of at most 64 characters, other than history.field')
  }
  return {
    maxCount: int('maxCount', o.maxCount, 1, 1_000_000),
    maxAge: int('maxAge', o.maxAge, 1000, 30 * 24 * 3_600_000),
    field: o.field,
    roomField: o.roomField,
    maxStreams: int('maxStreams', o.maxStreams, 1, 100_000_000),
    maxBytes: int('maxBytes', o.maxBytes, 65536, Number.MAX_SAFE_INTEGER),
    gapTimeout: int('gapTimeout', o.gapTimeout, 1, 60_000)
  }
}
