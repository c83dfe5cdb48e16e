import type { TokenBucket } from './limits/token-bucket.js'
import type { MessageDef } from './messages.js'

/** What the inbox needs from its connection: flow control only. */
export interface FlowControl {
  pause (): void
  resume (): void
}

type Exec = (def: MessageDef, body: unknown) => void | Promise<void>
type OnError = (err: unknown, def: MessageDef) => void

/** The inbound rate limit of one connection. */
export interface InboxRate {
  readonly bucket: TokenBucket
  /** Called each time the connection is throttled (reading pauses). */
  readonly onThrottle: () => void
}

/**
 * One connection's handler queue. Messages run one at a time in arrival order; a
 * handler that returns a promise holds the queue until it settles, whether it
 * resolves or rejects. Once `limit` messages wait, reading from the socket pauses
 * until the queue has drained (inbound backpressure).
 *
 * With a `rate`, each message takes a token first. When none is left, the queue
 * holds and reading pauses at once (the client is throttled, not closed); one
 * timer, for this connection only while it is throttled, resumes it when a token
 * is due.
 */
export class Inbox {
  /** Flat pairs (def, body) from `head` on: no object per queued message. */
  private queue: unknown[] = []
  private head = 0
  private running = false
  private paused = false
  private readonly limit: number
  private readonly exec: Exec
  private readonly onError: OnError
  private readonly flow: FlowControl
  private readonly rate: InboxRate | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (limit: number, exec: Exec, onError: OnError, flow: FlowControl, rate?: InboxRate) {
    this.limit = limit
    this.exec = exec
    this.onError = onError
    this.flow = flow
    this.rate = rate
  }

  /** Whether a handler is running or messages wait (reading may then be paused by us). */
  get busy (): boolean {
    return this.running
  }

  /** Messages waiting (not counting the one running). */
  get size (): number {
    return (this.queue.length - this.head) >> 1
  }

  push (def: MessageDef, body: unknown): void {
    if (this.running) {
      this.queue.push(def, body)
      if (!this.paused && this.size >= this.limit) {
        this.paused = true
        this.flow.pause()
      }
      return
    }
    // Nothing running, so nothing waits either: run it at once, without queueing it.
    this.running = true
    if (this.rate !== undefined && this.throttled()) {
      this.queue.push(def, body)
      return
    }
    if (this.run(def, body)) this.drain()
  }

  /** Drops every waiting message (the connection is gone). */
  clear (): void {
    this.queue = []
    this.head = 0
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Takes a token; when none is left, pauses reading and schedules `drain` for when one is due. */
  private throttled (): boolean {
    const wait = this.rate!.bucket.take(Date.now())
    if (wait === 0) return false
    if (!this.paused) {
      this.paused = true
      this.flow.pause()
    }
    this.rate!.onThrottle()
    this.timer = setTimeout(this.resumeAfterThrottle, wait)
    return true
  }

  private readonly resumeAfterThrottle = (): void => {
    this.timer = undefined
    this.drain()
  }

  /** Runs one message; false when its handler returned a promise, which holds the queue until it settles. */
  private run (def: MessageDef, body: unknown): boolean {
    let result: void | Promise<void>
    try {
      result = this.exec(def, body)
    } catch (err) {
      this.onError(err, def)
      return true
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(() => this.drain(), (err: unknown) => {
        this.onError(err, def)
        this.drain()
      })
      return false
    }
    return true
  }

  /** Runs the waiting messages in order, until one is asynchronous or none is left. */
  private drain (): void {
    while (this.head < this.queue.length) {
      if (this.rate !== undefined && this.throttled()) return
      const def = this.queue[this.head] as MessageDef
      const body = this.queue[this.head + 1]
      this.queue[this.head] = this.queue[this.head + 1] = undefined
      this.head += 2
      if (!this.run(def, body)) return
    }
    if (this.head > 0) {
      this.queue.length = 0
      this.head = 0
    }
    this.running = false
    if (this.paused) {
      this.paused = false
      this.flow.resume()
    }
  }
}
