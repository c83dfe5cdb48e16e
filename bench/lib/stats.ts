/** Small statistics and formatting helpers for the benchmark report. */

/** The `q` quantile (0..1) of an ascending array, nearest rank. */
export function percentile (sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

export function median (values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return NaN
  const mid = finite.length >> 1
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2
}

/** `1234567` -> `1,234,567`; NaN -> `–`. */
export function int (n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'
}

export function fixed (n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–'
}

/** A ratio as `0.93x`. */
export function ratio (a: number, b: number): string {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '–'
}

export function kib (bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–'
}

/**
 * Groups samples by `key` and returns, per group, the first sample with every
 * numeric field replaced by its median over the group (the rounds).
 */
export function medians<T extends object> (samples: readonly T[], key: (s: T) => string): Map<string, T> {
  const groups = new Map<string, T[]>()
  for (const s of samples) groups.set(key(s), [...(groups.get(key(s)) ?? []), s])
  const out = new Map<string, T>()
  for (const [k, group] of groups) {
    const m: Record<string, unknown> = { ...(group[0] as Record<string, unknown>) }
    for (const [field, value] of Object.entries(group[0])) {
      if (typeof value === 'number') m[field] = median(group.map(s => (s as Record<string, number>)[field]))
    }
    out.set(k, m as T)
  }
  return out
}

/** Merges error counts (message -> count) and lists them as `message (xN)`, most frequent first. */
export function errorList (...counts: Array<Record<string, number>>): string[] {
  const all = new Map<string, number>()
  for (const c of counts) for (const [msg, n] of Object.entries(c)) all.set(msg, (all.get(msg) ?? 0) + n)
  return [...all].sort((a, b) => b[1] - a[1]).map(([msg, n]) => `${msg} (x${n})`)
}
