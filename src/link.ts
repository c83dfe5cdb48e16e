import type { CloseReason } from './close-codes.js'
import type { Framing, OutboundMessage } from './codec/outbound.js'
import type { Transport } from './transport/kind.js'

/**
 * What a transport adapter reports: socket events, translated. The connection's
 * agent takes them (`Agent`, src/agent.ts).
 */
export interface LinkEvents {
  /** Bytes arrived: a chunk of a byte stream, or one whole WebSocket message. */
  socketData (chunk: Buffer): void
  /** Bytes arrived that carry no data (a WebSocket ping): keeps the idle timer fresh. */
  socketAlive (): void
  /** The socket's buffer drained. */
  socketDrained (): void
  /** The transport started a close by itself (ws refused a frame): `code` says why. */
  socketFailed (code: number, reason: string): void
  /** The socket is gone; `fallback` is the reason when the gate did not start the close. */
  socketClosed (fallback: CloseReason): void
}

/**
 * How a protocol's messages go over one transport: what is counted as sent, what
 * waits in an outbound queue, and the probe. One object per protocol and
 * transport, shared by their connections (`wireOf`, src/pipeline/connect.ts).
 */
export interface Wire {
  /** The protocol's name (`leaf`, `mqtt`, or an application's own). */
  readonly protocol: string
  /** The framing whose bytes are counted as sent (the protocol's message, without the WebSocket header). */
  readonly countFraming: Framing
  /** The framing actually written, whose unpooled copy waits in the outbound queue. */
  readonly queueFraming: Framing
  /** Bytes the client ignores, written to learn whether it is still there (TCP; a WebSocket pings). */
  readonly probe: Buffer | undefined
}

/**
 * A transport adapter: the only part that touches a socket (TCP or a ws
 * WebSocket). It writes what the pipeline gives it and reports socket events;
 * it knows nothing of protocols, limits or agents.
 */
export interface Link {
  readonly transport: Transport
  readonly remoteAddress: string
  /** Bytes the socket (and the WebSocket library) hold that the OS has not taken yet. */
  readonly bufferedAmount: number
  /** Writes one message in this link's framing; false when the socket's buffer is past its high-water mark. */
  write (msg: OutboundMessage, queued: boolean): boolean
  close (code: number, reason: string): void
  destroy (): void
  pause (): void
  resume (): void
  /**
   * Writes something the client ignores (a WebSocket ping; on TCP `bytes`, the
   * protocol's probe), so that a client that is gone answers with a reset.
   * False when there is nothing to write or the link is not open.
   */
  probe (bytes: Buffer | undefined): boolean
  /** Starts reporting events (once, after admission). */
  listen (events: LinkEvents): void
  /** Ends a connection the gate refused, after writing `bytes` when given (TCP) or with a 4005 close (WebSocket). */
  refuse (bytes: Buffer | undefined): void
}

/*
 * Socket listeners without closures: a transport registers the same functions
 * for every connection (EventEmitter calls them with the emitter as `this`),
 * which find the connection's events under a symbol of ours on the emitter.
 */
const kEvents = Symbol('fastify-gate link events')

/** Marks `emitter` (a socket, a ws WebSocket) as reporting to `events`. */
export function reportTo (emitter: object, events: LinkEvents): void {
  (emitter as { [kEvents]?: LinkEvents })[kEvents] = events
}

/** The events an emitter reports to (see `reportTo`). */
export function eventsOf (emitter: object): LinkEvents {
  return (emitter as { [kEvents]: LinkEvents })[kEvents]
}

/** A socket's 'drain', for every link. */
export function onDrain (this: object): void {
  eventsOf(this).socketDrained()
}
