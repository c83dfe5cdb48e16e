/**
 * Positions of the gate's per-uid history (docs/protocol.md section 8):
 * `"<epoch>:<offset>"`, opaque except that offsets of one epoch compare.
 */

/** Where a client keeps its position between page loads or processes, e.g. sessionStorage. `get` runs once, before the first login. */
export interface PositionStore {
  get: () => string | null | undefined | Promise<string | null | undefined>
  set: (position: string) => void | Promise<void>
}

export interface ResumeOptions {
  /** The body field that carries the position (the gate's `history.field`). Default `'gate_pos'`. */
  field?: string
  /**
   * The body field that names the room of a room message's position (the
   * gate's `history.roomField`). Default `'gate_room'`. A message with it moves
   * that room's position (`roomPosition`), not the uid's.
   */
  roomField?: string
  /** Keeps the position across client instances (a page reload, a restarted process). */
  store?: PositionStore
}

/** What `onResume` reports after each login. */
export interface ResumeInfo {
  /** From the login hook's result (`recovered` of the login answer); false when it gave none. */
  recovered: boolean
  /** The position the login sent (`''`: none yet). */
  from: string
  /** The position after the login: past the replayed messages, or the stream's current one. */
  position: string
}

function split (pos: string): [string, number] | undefined {
  const i = pos.lastIndexOf(':')
  if (i <= 0) return undefined
  const offset = Number(pos.slice(i + 1))
  return Number.isSafeInteger(offset) && offset >= 0 ? [pos.slice(0, i), offset] : undefined
}

/**
 * The position to keep after seeing `next`: `next` unless it is of the same
 * epoch as `current` and not past it (positions never go backwards within an
 * epoch). A new epoch is adopted; an empty `next` changes nothing.
 */
export function advance (current: string, next: unknown): string {
  if (typeof next !== 'string' || next === '' || next === current) return current
  const a = split(current)
  const b = split(next)
  if (a !== undefined && b !== undefined && a[0] === b[0] && b[1] <= a[1]) return current
  return next
}

/**
 * What a subscribe with resume on found (`subscribe`'s result, and `onRoomResume`
 * after every subscribe, the re-subscribes after a reconnect included).
 */
export interface RoomResumeInfo {
  room: string
  /** True when every kept message of the room after `from` was replayed; false on a first subscribe, or when some were dropped or the room's history was lost. */
  recovered: boolean
  /** The room position the subscribe sent (`''`: none yet). */
  from: string
  /** The room position after the subscribe: past the replayed messages, or the room's current one. */
  position: string
}
