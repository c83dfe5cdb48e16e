import type { Registry } from 'prom-client'

interface Series {
  labels: { message: string, result: 'ok' | 'error' }
  /** Observations per bucket (not cumulative), one slot per bound. */
  counts: Float64Array
  sum: number
  count: number
}

/** One exported sample, shaped (and its keys ordered) as prom-client's own histogram samples. */
interface Value {
  labels: Record<string, string | number>
  sharedLabels: Record<string, string>
  value: number
  metricName: string
  exemplar: null | undefined
}

/**
 * The handler run time histogram (`message` and `result` labels), fed once per
 * handled message. prom-client's `Histogram.observe` validates and hashes the
 * labels on every call, about 1 µs, a few percent of a whole echo round trip;
 * here a call is a map lookup and a few increments. It registers as a custom
 * metric and exports the same series, in the same order and format, as a
 * prom-client `Histogram` with these buckets would.
 */
export class LatencyHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly name: string
  readonly help: string
  private readonly bounds: readonly number[]
  private ok = new Map<string, Series>()
  private failed = new Map<string, Series>()
  /** Every series, in the order first observed. */
  private series: Series[] = []

  constructor (opts: { name: string, help: string, buckets: readonly number[], registers: Registry[] }) {
    this.name = opts.name
    this.help = opts.help
    this.bounds = [...opts.buckets].sort((a, b) => a - b)
    for (const registry of opts.registers) registry.registerMetric(this as never)
  }

  observe (message: string, failed: boolean, seconds: number): void {
    const map = failed ? this.failed : this.ok
    let s = map.get(message)
    if (s === undefined) {
      s = { labels: { message, result: failed ? 'error' : 'ok' }, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }
      map.set(message, s)
      this.series.push(s)
    }
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > bounds[i]) i++
    if (i < bounds.length) s.counts[i]++
    s.sum += seconds
    s.count++
  }

  reset (): void {
    this.ok = new Map()
    this.failed = new Map()
    this.series = []
  }

  /** What the registry formats: bucket labels first (`le`), then the series' labels. */
  getForPromString (): { name: string, help: string, type: string, aggregator: string, values: Value[] } {
    const values: Value[] = []
    for (const s of this.series) {
      let acc = 0
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket`, exemplar: null })
      })
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket`, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined }
      )
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  /** The JSON form (`registry.getMetricsAsJSON()`): labels merged, as prom-client's `Histogram.get()`. */
  get (): { name: string, help: string, type: string, aggregator: string, values: Array<Omit<Value, 'sharedLabels'>> } {
    const data = this.getForPromString()
    data.values = data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) as Value[]
    return data
  }
}
