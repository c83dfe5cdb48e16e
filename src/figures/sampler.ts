import type { GateRuntime } from '../runtime.js'
import { BucketCounts, quantile, subtractCounts } from './histogram.js'
import type { NodeFigures } from './schema.js'

/** One reading of a node's monotonic totals. */
interface Sample {
  at: number
  msgsIn: number
  msgsOut: number
  bytesIn: number
  bytesOut: number
  latency: number[]
}

export interface SamplerOptions {
  /** Milliseconds between samples. Default 1000. */
  interval?: number
  /** Samples the rates span (the window is `interval * span`). Default 5. */
  span?: number
}

/**
 * Reads a gate's totals at a fixed rate and turns them into rates and latency
 * percentiles over the last few samples. Its cost is one timer tick per
 * interval and one bucket increment per handled message, whatever the number
 * of connections or of dashboards asking. Handler run times come through
 * `gate.runtime.observer` (an observer already set is still called).
 */
export class FigureSampler {
  private readonly gate: GateRuntime
  private readonly interval: number
  private readonly span: number
  private readonly latency = new BucketCounts()
  private readonly samples: Sample[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (gate: GateRuntime, opts: SamplerOptions = {}) {
    this.gate = gate
    this.interval = opts.interval ?? 1000
    this.span = opts.span ?? 5
    const previous = gate.observer
    gate.observer = {
      handled: (name, seconds, failed) => {
        this.latency.observe(seconds)
        previous?.handled?.(name, seconds, failed)
      }
    }
  }

  start (): void {
    if (this.timer !== undefined) return
    this.sample()
    this.timer = setInterval(() => this.sample(), this.interval)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** This node's figures as of the newest sample (counts as of now). */
  figures (): NodeFigures {
    if (this.samples.length === 0) this.sample()
    const newest = this.samples[this.samples.length - 1]
    const oldest = this.samples[0]
    const seconds = (newest.at - oldest.at) / 1000
    const rate = (key: 'msgsIn' | 'msgsOut' | 'bytesIn' | 'bytesOut'): number => seconds > 0 ? (newest[key] - oldest[key]) / seconds : 0
    const buckets = subtractCounts(newest.latency, oldest.latency)
    const { counters, local } = this.gate
    const transports = local.transports
    return {
      node: this.gate.nodeId,
      at: newest.at,
      window: seconds,
      connections: transports,
      protocols: local.protocols,
      onlineUsers: local.onlineUsers,
      msgsIn: rate('msgsIn'),
      msgsOut: rate('msgsOut'),
      bytesIn: rate('bytesIn'),
      bytesOut: rate('bytesOut'),
      handled: buckets.reduce((a, b) => a + b, 0),
      latencyBuckets: buckets,
      p50: quantile(0.5, buckets),
      p99: quantile(0.99, buckets),
      closes: Object.fromEntries([...counters.closes].map(([code, n]) => [String(code), n])),
      handlerErrors: counters.handlerErrors,
      refused: counters.refused
    }
  }

  private sample (): void {
    const c = this.gate.counters
    this.samples.push({ at: Date.now(), msgsIn: c.msgsIn, msgsOut: c.msgsOut, bytesIn: c.bytesIn, bytesOut: c.bytesOut, latency: [...this.latency.counts] })
    if (this.samples.length > this.span + 1) this.samples.shift()
  }
}
