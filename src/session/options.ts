import { GateError } from '../errors.js'
import { int as intOption } from '../option-checks.js'
import { settingsDefaults, type SettingsLimits } from './settings.js'
import type { SessionStore } from './store.js'

/** Session settings and storage (docs/sessions.md). */
export interface SessionOptions extends Partial<SettingsLimits> {
  /**
   * Where a uid's settings are kept between connections: `'auto'` (the default:
   * memory on a single node, Redis in cluster mode), your own `SessionStore`,
   * or `false` (not kept).
   */
  store?: 'auto' | false | SessionStore
  /** ms stored session data lives without activity. Default 24 hours. */
  ttl?: number
}

export interface NormalizedSessionOptions extends SettingsLimits {
  store: 'auto' | false | SessionStore
  ttl: number
}

const int = (option: string, value: unknown, min: number, max: number): number => intOption(`session.${option}`, value, min, max)

function isStore (value: unknown): value is SessionStore {
  const s = value as SessionStore
  return typeof s === 'object' && s !== null && ['load', 'save', 'touch', 'delete'].every(m => typeof (s as unknown as Record<string, unknown>)[m] === 'function')
}

/** Validates the `session` option once, at register time. Throws `FST_GATE_INVALID_OPTION`. */
export function normalizeSessionOptions (opts: SessionOptions = {}): NormalizedSessionOptions {
  if (typeof opts !== 'object' || opts === null) throw new GateError.INVALID_OPTION('session', 'must be an object')
  const known = new Set(['maxSettings', 'maxKeyLength', 'maxValueLength', 'store', 'ttl'])
  for (const key of Object.keys(opts)) if (!known.has(key)) throw new GateError.INVALID_OPTION(`session.${key}`, 'is not a session option')
  const store = opts.store ?? 'auto'
  if (store !== 'auto' && store !== false && !isStore(store)) {
    throw new GateError.INVALID_OPTION('session.store', 'must be "auto", false, or an object with load, save, touch and delete')
  }
  return {
    maxSettings: int('maxSettings', opts.maxSettings ?? settingsDefaults.maxSettings, 0, 1024),
    maxKeyLength: int('maxKeyLength', opts.maxKeyLength ?? settingsDefaults.maxKeyLength, 1, 1024),
    maxValueLength: int('maxValueLength', opts.maxValueLength ?? settingsDefaults.maxValueLength, 0, 65536),
    store,
    ttl: int('ttl', opts.ttl ?? 86_400_000, 1000, 365 * 86_400_000)
  }
}
