import type { GateCounters } from './agent.js'
import type { GateObserver } from './dispatch.js'
import type { NodeFigures } from './figures/schema.js'
import type { Refusal, Slot } from './limits/admission.js'
import type { LocalAgents } from './local-agents.js'
import type { GateLogger } from './logger.js'
import type { NormalizedCoreOptions } from './options.js'
import type { Link, Wire } from './pipeline/link.js'
import type { PeerAgent } from './pipeline/peer.js'

/**
 * The gate as the runtime around it sees it: the plugin and its HTTP guard, the
 * pipeline and transports, metrics and the dashboard's sampler. Admission
 * (`reserve`, `release`, `accept`), the shared timer (`onSweep`), and the figures they read or instrument. `Gate`
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
  /** Admits a connection (with the place from `reserve`, if any): its agent, or why not (src/pipeline/connect.ts). */
  accept (link: Link, wire: Wire, slot?: Slot): PeerAgent<any> | Refusal
  /** Adds work to the gate's one shared timer. */
  onSweep (fn: (now: number) => void): void
}
