import type { Agent, Connection, GateCounters } from './agent.js'
import type { GateObserver } from './dispatch.js'
import type { NodeFigures } from './figures/schema.js'
import type { Refusal, Slot } from './limits/admission.js'
import type { LocalAgents } from './local-agents.js'
import type { GateLogger } from './logger.js'
import type { NormalizedCoreOptions } from './options.js'
import type { ProtocolPeer } from './protocol/protocol.js'

/**
 * The gate as the runtime around it sees it: the plugin and its HTTP guard, the
 * pipeline and transports, metrics and the dashboard's sampler. Admission
 * (`reserve`, `release`, `accept`), a protocol session's handle (`peerOf`), the
 * shared timer (`onSweep`), and the figures they read or instrument. `Gate`
 * implements it; an application uses the rest of `Gate` (messages, hooks,
 * lookups, operations) and never needs these members but the read-outs.
 */
export interface GateRuntime {
  readonly options: NormalizedCoreOptions
  readonly nodeId: string
  readonly log: GateLogger
  readonly counters: GateCounters
  /** This node's connections, counted (metrics, figures). */
  readonly local: Pick<LocalAgents, 'transports' | 'protocols' | 'onlineUsers'>
  readonly backlog: { readonly bytes: number }
  readonly admission: { readonly unfinishedHttp: number }
  readonly refusals: ReadonlyMap<Refusal, number>
  /** Instrumentation of handlers (metrics, the sampler); chain to the one already set. */
  observer: GateObserver | undefined
  /** This node's live figures (the dashboard sets it). */
  reporter: (() => NodeFigures) | undefined

  /** A place for a connection being set up (an upgrade, an HTTP connection), or why not. */
  reserve (ip: string, unfinishedHttp?: boolean): Slot | Refusal
  /** Gives back a place from `reserve` that did not become a connection. */
  release (slot: Slot): void
  /** Admits a connection (with the place from `reserve`, if any): its agent, or why not. */
  accept (conn: Connection, slot?: Slot): Agent<any> | Refusal
  /** The handle a protocol session gets on its connection. */
  peerOf (agent: Agent<any>): ProtocolPeer
  /** Adds work to the gate's one shared timer. */
  onSweep (fn: (now: number) => void): void
}
