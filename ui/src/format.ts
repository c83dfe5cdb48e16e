/** Names of the close codes (docs/protocol.md section 4). */
const CLOSE_NAMES: Record<string, string> = {
  1000: 'normal',
  1001: 'going away',
  1002: 'protocol error',
  1005: 'no status',
  1006: 'abnormal',
  1007: 'invalid payload',
  1009: 'too big',
  4000: 'idle timeout',
  4001: 'kicked',
  4002: 'replaced',
  4003: 'unauthorized',
  4004: 'slow consumer',
  4005: 'server full'
}

export const closeName = (code: string): string => CLOSE_NAMES[code] ?? ''

const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 })
export const count = (n: number): string => number.format(n)

export function seconds (s: number | null | undefined): string {
  if (s === null || s === undefined) return '—'
  if (s < 0.001) return `${number.format(s * 1e6)} µs`
  if (s < 1) return `${number.format(s * 1000)} ms`
  return `${number.format(s)} s`
}

export function bytes (n: number): string {
  if (n < 1024) return `${number.format(n)} B`
  if (n < 1024 * 1024) return `${number.format(n / 1024)} KiB`
  return `${number.format(n / 1024 / 1024)} MiB`
}

export function since (iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
  if (s < 60) return `${Math.floor(s)} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}
