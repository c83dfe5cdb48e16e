/** Scenario parameters from the environment (bounded defaults for a ~10 minute full run). */

/** What a scenario hands to the report; saved as bench/results/<scenario>.json. */
export interface ScenarioResult {
  scenario: string
  params: Record<string, unknown>
  data: any
  /** Set when the scenario did not run, with why. */
  skipped?: string
  notes?: string[]
}

export function envInt (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`)
  return n
}

export function envList (name: string, fallback: number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const list = raw.split(',').map(Number)
  if (!list.every(n => Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}"`)
  return list.sort((a, b) => a - b)
}
