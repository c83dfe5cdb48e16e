import { GateError } from '../errors.js'

/** Bounds of one connection's settings (`session` option). */
export interface SettingsLimits {
  /** Keys per connection. Default 32. */
  maxSettings: number
  /** UTF-16 code units of a key. Default 64. */
  maxKeyLength: number
  /** UTF-16 code units of a value. Default 1024. */
  maxValueLength: number
}

export const settingsDefaults: SettingsLimits = { maxSettings: 32, maxKeyLength: 64, maxValueLength: 1024 }

/**
 * One connection's session settings (mqant's `Settings`): string keys to string
 * values, bounded in count and size. Handlers read and change them; they are
 * listed in `GET /gate/users/:uid` on every node, and kept by the session store
 * when there is one. Every change is reported once to `onChange`.
 */
export class SessionSettings {
  private readonly map = new Map<string, string>()
  private readonly limits: SettingsLimits
  private readonly onChange: () => void

  constructor (limits: SettingsLimits, onChange: () => void) {
    this.limits = limits
    this.onChange = onChange
  }

  get size (): number {
    return this.map.size
  }

  get (key: string): string | undefined {
    return this.map.get(key)
  }

  has (key: string): boolean {
    return this.map.has(key)
  }

  /** Sets one key. Throws `FST_GATE_INVALID_SETTING` past a bound; nothing changes then. */
  set (key: string, value: string): void {
    this.update({ [key]: value }, [])
  }

  /** Removes one key; returns whether it was there. */
  remove (key: string): boolean {
    if (!this.map.has(key)) return false
    this.update({}, [key])
    return true
  }

  /**
   * Sets and removes several keys at once (all or nothing), with one change
   * report. `remove` is applied first.
   */
  update (set: Readonly<Record<string, string>>, remove: readonly string[] = [], quiet = false): void {
    const next = new Map(this.map)
    for (const key of remove) next.delete(key)
    for (const [key, value] of Object.entries(set)) {
      if (typeof key !== 'string' || key.length === 0 || key.length > this.limits.maxKeyLength) {
        throw new GateError.INVALID_SETTING(`a key must be 1 to ${this.limits.maxKeyLength} characters`)
      }
      if (typeof value !== 'string' || value.length > this.limits.maxValueLength) {
        throw new GateError.INVALID_SETTING(`the value of "${key.slice(0, 64)}" must be a string of at most ${this.limits.maxValueLength} characters`)
      }
      next.set(key, value)
    }
    if (next.size > this.limits.maxSettings) throw new GateError.INVALID_SETTING(`at most ${this.limits.maxSettings} settings per connection`)
    const changed = next.size !== this.map.size || [...next].some(([k, v]) => this.map.get(k) !== v)
    if (!changed) return
    this.map.clear()
    for (const [k, v] of next) this.map.set(k, v)
    if (!quiet) this.onChange()
  }

  /** A plain copy, in insertion order. */
  toJSON (): Record<string, string> {
    return Object.fromEntries(this.map)
  }
}
