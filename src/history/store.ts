/**
 * Where a uid's history lives: one stream per uid, with an epoch and offsets
 * 1, 2, 3… in the order of appends. A stream that is lost (expired, evicted,
 * a Redis that restarted empty) starts again under a new epoch, from offset 1.
 * `MemoryHistoryStore` is the single-node store; `RedisHistoryStore` (cluster)
 * keeps streams in Redis Streams.
 */

/** A place in a uid's stream. */
export interface Position {
  epoch: string
  offset: number
}

/** One stored message: the encoded payload, as sent to connections that did not ask for positions. */
export interface StoredMessage {
  offset: number
  /** When it was appended, unix ms (the store's clock). */
  at: number
  name: string
  /** Whether WebSocket clients get it as a text frame. */
  text: boolean
  payload: Buffer
}

/** What a read found. */
export interface StreamRead {
  /** `''` when the uid has no stream. */
  epoch: string
  /** The newest offset ever given in this epoch (0: none). */
  last: number
  /** The oldest offset still kept (`last + 1` when none is). */
  first: number
  /** Offsets after the one asked for, oldest first, at most `limit`. */
  items: StoredMessage[]
}

export interface HistoryStore {
  /** Appends one message to `uid`'s stream; resolves with its position. */
  append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position>
  /**
   * Messages of `uid` after offset `after`, oldest first, at most `limit`. With
   * `create`, a uid without a stream gets an empty one (its epoch), so that a
   * client that logs in before any message has a position to resume from.
   */
  read (uid: string, after: number, limit: number, create?: boolean): Promise<StreamRead>
  /**
   * `uid` logged in (bound on this node). A store that bounds its total keeps
   * the streams of uids that logged in before those of uids that never did, so
   * that a flood of messages to made-up uids cannot evict real users' unread
   * messages (see `MemoryHistoryStore`).
   */
  loggedIn? (uid: string): void
  /**
   * Resolves once the appends made so far are written where a command the
   * directory sends afterwards runs after them (one Redis connection for
   * both). Absent or undefined: only their positions say that they were run.
   */
  written? (): Promise<void> | undefined
  /** Drops expired messages (called on the gate's timer). */
  sweep? (now: number): void
  close? (): Promise<void>
}

/** `"<epoch>:<offset>"`, the position token a client stores and gives back. */
export function formatPosition (pos: Position): string {
  return `${pos.epoch}:${pos.offset}`
}

/** Parses a position token; `undefined` when it is not one. */
export function parsePosition (token: string): Position | undefined {
  const at = token.lastIndexOf(':')
  if (at <= 0 || at > 64) return undefined
  const offset = Number(token.slice(at + 1))
  if (!Number.isSafeInteger(offset) || offset < 0 || token.slice(at + 1) !== String(offset)) return undefined
  return { epoch: token.slice(0, at), offset }
}
