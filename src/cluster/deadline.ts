import { GateError } from '../errors.js'

/**
 * Settles with `promise`, or rejects with `FST_GATE_CLUSTER_UNAVAILABLE` after
 * `ms` (at least 1). Any failure of the store is reported with that code too.
 * A user's client may queue commands while Redis is down; this bounds the wait
 * whatever the client's own options are.
 */
export async function within<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new GateError.CLUSTER_UNAVAILABLE(`no answer within ${Math.round(ms)} ms`)), Math.max(1, ms))
  })
  try {
    return await Promise.race([promise, expired])
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_GATE_CLUSTER_UNAVAILABLE') throw err
    throw new GateError.CLUSTER_UNAVAILABLE((err as Error).message)
  } finally {
    clearTimeout(timer)
  }
}

/** An absolute deadline shared by the steps of one cluster call. */
export class Deadline {
  private readonly end: number

  constructor (ms: number) {
    this.end = Date.now() + ms
  }

  /** Milliseconds left, never below 0. */
  get left (): number {
    return Math.max(0, this.end - Date.now())
  }
}
