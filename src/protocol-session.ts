/**
 * One connection's protocol state, as its agent drives it (src/agent.ts). Apart
 * from the rest of the protocol's types (src/protocol/protocol.ts), which name the
 * agent, so that the agent can name this without an import cycle.
 */
export interface ProtocolSession {
  /** Inbound bytes: a chunk of the TCP stream, or one whole WebSocket message. */
  data (chunk: Buffer): void
  /** Inbound backpressure: stop emitting messages until `resume` (optional). */
  pause? (): void
  resume? (): void
  /**
   * The gate is closing the connection with this code and reason (not as a slow
   * consumer, which reads nothing): what is written now still goes out before
   * the close (leaf over TCP, which has no close codes: the close notice).
   */
  closing? (code: number, reason: string): void
  /** The connection is closing or gone: stop for good. */
  stop? (): void
  /** Inbound bytes held of messages not yet complete (a partial frame or packet, a read kept while paused). */
  readonly buffered?: number
}
