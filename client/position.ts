/**
 * Positions of the gate's per-uid and per-room history (docs/protocol.md
 * sections 8 and 10): `"<epoch>:<offset>"`, opaque except that offsets of one
 * epoch compare; and how a `PositionStore` keeps them.
 */

/**
 * Where a client keeps its positions between page loads or processes, e.g.
 * sessionStorage. `get` runs once, before the first login. The value is the
 * client's own (see `storeValue`): keep it as given.
 */
export interface PositionStore {
  get: () => string | null | undefined | Promise<string | null | undefined>
  set: (value: string) => void | Promise<void>
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

/** What a `PositionStore` value holds: the uid position and each room's. */
export interface StoredPositions {
  /** The uid position (`''`: none). */
  pos: string
  /** Room positions by room (none empty). */
  rooms: Map<string, string>
}

/**
 * The value a `PositionStore` keeps: the bare uid position when no room has a
 * position (the format from before room positions were kept), else
 * `{"pos": <uid position>, "rooms": {"<room>": <room position>}}` as JSON.
 */
export function storeValue (pos: string, rooms: ReadonlyMap<string, string>): string {
  const kept = [...rooms].filter(([, p]) => p !== '')
  return kept.length === 0 ? pos : JSON.stringify({ pos, rooms: Object.fromEntries(kept) })
}

/**
 * Reads a `PositionStore` value (`storeValue`): one not starting with `{` is a
 * bare uid position; JSON that does not parse, or fields of the wrong type,
 * count as no position (nothing thrown).
 */
export function storedPositions (value: unknown): StoredPositions {
  const found: StoredPositions = { pos: '', rooms: new Map() }
  if (typeof value !== 'string') return found
  if (!value.startsWith('{')) {
    found.pos = value
    return found
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return found
  }
  const { pos, rooms } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { pos?: unknown, rooms?: unknown }
  if (typeof pos === 'string') found.pos = pos
  if (typeof rooms !== 'object' || rooms === null || Array.isArray(rooms)) return found
  for (const [room, p] of Object.entries(rooms)) {
    if (room !== '' && typeof p === 'string' && p !== '') found.rooms.set(room, p)
  }
  return found
}
