/**
 * Handler latency bucket bounds, in seconds (the same as the Prometheus
 * histogram of the metrics plugin): handlers are usually well under a millisecond.
 */
export const LATENCY_BOUNDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Observations per bucket (not cumulative), one slot per bound plus the last
 * one for everything above the highest bound. Counts of two nodes, or the
 * difference of two samples, combine slot by slot, so a cluster percentile is
 * computed from the merged counts rather than averaged from each node's.
 */
export class BucketCounts {
  readonly counts: number[]
  private readonly bounds: readonly number[]

  constructor (bounds: readonly number[] = LATENCY_BOUNDS) {
    this.bounds = bounds
    this.counts = new Array<number>(bounds.length + 1).fill(0)
  }

  observe (seconds: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > bounds[i]) i++
    this.counts[i]++
  }
}

/** `a - b`, slot by slot. */
export function subtractCounts (a: readonly number[], b: readonly number[]): number[] {
  return a.map((n, i) => n - (b[i] ?? 0))
}

/** `a + b`, slot by slot. */
export function addCounts (a: readonly number[], b: readonly number[]): number[] {
  return a.map((n, i) => n + (b[i] ?? 0))
}

/**
 * The `q` quantile (0..1) of bucketed observations, in seconds, interpolated
 * linearly inside its bucket as Prometheus's `histogram_quantile` does; one in
 * the overflow slot answers the highest bound. `null` without observations.
 */
export function quantile (q: number, counts: readonly number[], bounds: readonly number[] = LATENCY_BOUNDS): number | null {
  let total = 0
  for (const n of counts) total += n
  if (total === 0) return null
  const rank = q * total
  let below = 0
  for (let i = 0; i < counts.length; i++) {
    if (below + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]
      const lower = i === 0 ? 0 : bounds[i - 1]
      return lower + (bounds[i] - lower) * (rank - below) / counts[i]
    }
    below += counts[i]
  }
  return bounds[bounds.length - 1]
}
