import { CloseCode } from '../src/close-codes.js'

/** Reconnect policy: exponential backoff with jitter, and the close codes that mean stop. */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms. Default 500. */
  initialDelay?: number
  /** Upper bound of a delay, in ms. Default 30000. */
  maxDelay?: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** Fraction of each delay that is random, 0..1: the delay is in `[d × (1 − jitter), d]`. Default 0.5. */
  jitter?: number
  /** Retries in a row (without reaching `connected`) before giving up. Default `Infinity`. */
  maxAttempts?: number
  /**
   * After a close with 1012 (service restart: the node is draining, see
   * docs/protocol.md section 9), the retry waits a uniformly random delay in
   * `[0, restartDelay]` ms instead of the backoff, so that a stopping node's
   * clients do not all come back in the same instant. Default 2000.
   */
  restartDelay?: number
  /** Close codes after which the client never reconnects. Default 4001 (kicked), 4002 (replaced), 4003 (unauthorized). */
  stopCodes?: readonly number[]
  /** Random source in [0, 1). Default `Math.random`. */
  random?: () => number
}

export type NormalizedReconnect = Required<ReconnectOptions>

export const STOP_CODES: readonly number[] = [4001, 4002, 4003]

export function normalizeReconnect (opts: ReconnectOptions = {}): NormalizedReconnect {
  const r: NormalizedReconnect = {
    initialDelay: 500,
    maxDelay: 30000,
    factor: 2,
    jitter: 0.5,
    maxAttempts: Infinity,
    restartDelay: 2000,
    stopCodes: STOP_CODES,
    random: Math.random,
    ...opts
  }
  if (!(r.initialDelay >= 0) || !(r.maxDelay >= r.initialDelay)) throw new RangeError('reconnect: need 0 <= initialDelay <= maxDelay')
  if (!(r.factor >= 1)) throw new RangeError('reconnect: factor must be >= 1')
  if (!(r.jitter >= 0 && r.jitter <= 1)) throw new RangeError('reconnect: jitter must be in 0..1')
  if (!(r.maxAttempts >= 0)) throw new RangeError('reconnect: maxAttempts must be >= 0')
  if (!(r.restartDelay >= 0 && r.restartDelay < Infinity)) throw new RangeError('reconnect: restartDelay must be a finite number >= 0')
  return r
}

/** The ceiling of retry `attempt` (1, 2, …): `min(maxDelay, initialDelay × factor^(attempt − 1))`. */
export function backoffCeiling (attempt: number, r: NormalizedReconnect): number {
  return Math.min(r.maxDelay, r.initialDelay * Math.pow(r.factor, Math.max(0, attempt - 1)))
}

/** The delay before retry `attempt`, in `[ceiling × (1 − jitter), ceiling]`. */
export function backoffDelay (attempt: number, r: NormalizedReconnect): number {
  const ceiling = backoffCeiling(attempt, r)
  return Math.round(ceiling * (1 - r.jitter * r.random()))
}

/** The delay before retry `attempt` after a close with `code`: random up to `restartDelay` after 1012, else the backoff. */
export function retryDelay (attempt: number, code: number, r: NormalizedReconnect): number {
  return code === CloseCode.SERVICE_RESTART ? Math.round(r.restartDelay * r.random()) : backoffDelay(attempt, r)
}
