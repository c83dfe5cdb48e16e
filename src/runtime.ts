import type { GateCounters } from './agent.js'
import type { GateObserver } from './dispatch.js'
import type { NodeFigures } from './figures/schema.js'
import type { Lifecycle } from './lifecycle.js'
import type { Refusal, Slot } from './limits/admission.js'
import type { AgentIndex } from './agent-index.js'
import type { GateLogger } from './logger.js'
import type { NormalizedCoreOptions } from './options.js'
import type { Link, Wire } from './link.js'
import type { PeerAgent } from './pipeline/peer.js'

/**
 * The gate as the runtime around it sees it (`gate.runtime`): the plugin and its
 * HTTP guard, the pipeline and transports, metrics and the dashboard's sampler.
 * Admission (`reserve`, `release`, `accept`), the shared timer (`onSweep`), the
 * handler instrumentation (`observer`), this node's live figures (`reporter`),
 * and the counts they read. The application's face is `Gate` (messages, hooks,
 * lookups, operations); an application never needs this one.
 */
export interface GateRuntime {
  readonly options: NormalizedCoreOptions
  readonly nodeId: string
  readonly log: GateLogger
  readonly counters: GateCounters
  /** This node's connections, counted (metrics, figures). */
  readonly local: Pick<AgentIndex, 'connections' | 'transports' | 'protocols' | 'onlineUsers'>
  readonly backlog: { readonly bytes: number }
  readonly admission: { readonly unfinishedHttp: number }
  readonly refusals: ReadonlyMap<Refusal, number>
  /** Instrumentation of handlers (metrics, the sampler); chain to the one already set. */
  observer: GateObserver | undefined
  /** This node's live figures (the dashboard sets it; `gate.figures()` reads it on every node). */
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

/** What the runtime face is made of: the gate's parts (src/gate.ts builds it). */
export interface RuntimeParts {
  readonly options: NormalizedCoreOptions
  readonly log: GateLogger
  readonly counters: GateCounters
  readonly local: AgentIndex
  readonly backlog: { readonly bytes: number }
  readonly admission: { readonly unfinishedHttp: number }
  readonly lifecycle: Lifecycle
  /** The work on the gate's one shared timer, besides its own sweeps. */
  readonly sweeps: Array<(now: number) => void>
}

/** `GateRuntime` over the gate's parts: every member is one of theirs, or one line. */
export class Runtime implements GateRuntime {
  observer: GateObserver | undefined = undefined
  reporter: (() => NodeFigures) | undefined = undefined
  private readonly p: RuntimeParts

  constructor (parts: RuntimeParts) {
    this.p = parts
  }

  get options (): NormalizedCoreOptions { return this.p.options }
  get nodeId (): string { return this.p.options.nodeId }
  get log (): GateLogger { return this.p.log }
  get counters (): GateCounters { return this.p.counters }
  get local (): AgentIndex { return this.p.local }
  get backlog (): { readonly bytes: number } { return this.p.backlog }
  get admission (): { readonly unfinishedHttp: number } { return this.p.admission }
  get refusals (): ReadonlyMap<Refusal, number> { return this.p.lifecycle.refusals }

  reserve (ip: string, unfinishedHttp = false): Slot | Refusal {
    return this.p.lifecycle.reserve(ip, unfinishedHttp)
  }

  release (slot: Slot): void {
    this.p.lifecycle.release(slot)
  }

  accept (link: Link, wire: Wire, slot?: Slot): PeerAgent<any> | Refusal {
    return this.p.lifecycle.accept(link, wire, slot)
  }

  onSweep (fn: (now: number) => void): void {
    this.p.sweeps.push(fn)
  }
}
