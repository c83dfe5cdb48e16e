import type { Budget } from './limits/token-bucket.js'
import type { MessageDef } from './messages.js'

/** What the inbox needs from its connection: flow control only. */
export interface FlowControl {
  pause (): void
  resume (): void
}

/**
 * Who runs an inbox's messages, for any number of inboxes: each call names the
 * inbox's `owner` (its connection), so an inbox holds no closure of its own.
 */
export interface InboxHost<O> {
  /** Runs one message; a promise holds the queue until it settles. */
  exec (owner: O, def: MessageDef, body: unknown): void | Promise<void>
  /** A message's run threw or rejected. */
  failed (owner: O, err: unknown, def: MessageDef): void
  /** The connection passed its rate (`byAddress`: its address's shared budget): reading pauses (called each time). */
  throttled? (owner: O, byAddress: boolean): void
}

const noQueue: unknown[] = []

/**
 * Handler work the inboxes may do in one turn of the event loop, in ms. Past
 * it, the messages still waiting run from `setImmediate`, after the sockets
 * have been read again: one connection's burst of expensive messages (a room
 * push to hundreds) then delays other clients by about this much, not by all
 * of it.
 */
export const SLICE_MS = 20
/** When this turn's handler work began (-1: none yet). */
let sliceStart = -1

/** Whether handler work may go on in this turn of the event loop. */
function inSlice (): boolean {
  const now = performance.now()
  if (sliceStart < 0) {
    sliceStart = now
    setImmediate(endSlice)
    return true
  }
  return now - sliceStart < SLICE_MS
}

function endSlice (): void {
  sliceStart = -1
}

/**
 * One connection's handler queue. Messages run one at a time in arrival order; a
 * handler that returns a promise holds the queue until it settles, whether it
 * resolves or rejects. Once `limit` messages wait, reading from the socket pauses
 * until the queue has drained (inbound backpressure).
 *
 * With a `rate` bucket, each message takes a token first, and with an `address`
 * budget (shared by every connection of the client's address) one of those too.
 * When none is left, the queue holds and reading pauses at once (the client is
 * throttled, not closed); one timer, for this connection only while it is
 * throttled, resumes it when a token is due.
 */
export class Inbox<O = unknown> {
  /** Flat pairs (def, body) from `head` on: no object per queued message; no array until one waits. */
  private queue: unknown[] = noQueue
  private head = 0
  private running = false
  private paused = false
  private readonly limit: number
  private readonly host: InboxHost<O>
  private readonly owner: O
  private readonly flow: FlowControl
  private readonly rate: Budget | undefined
  private readonly address: Budget | undefined
  private readonly limited: boolean
  private timer: NodeJS.Timeout | undefined

  constructor (limit: number, host: InboxHost<O>, owner: O, flow: FlowControl, rate?: Budget, address?: Budget) {
    this.limit = limit
    this.host = host
    this.owner = owner
    this.flow = flow
    this.rate = rate
    this.address = address
    this.limited = rate !== undefined || address !== undefined
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
      this.enqueue(def, body)
      if (!this.paused && this.size >= this.limit) {
        this.paused = true
        this.flow.pause()
      }
      return
    }
    // Nothing running, so nothing waits either: run it at once, without queueing it.
    this.running = true
    if (this.limited && this.throttled()) {
      this.enqueue(def, body)
      return
    }
    if (this.run(def, body)) this.drain()
  }

  private enqueue (def: MessageDef, body: unknown): void {
    if (this.queue === noQueue) this.queue = []
    this.queue.push(def, body)
  }

  /** Drops every waiting message (the connection is gone). */
  clear (): void {
    this.queue = noQueue
    this.head = 0
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Takes a token; when none is left, pauses reading and schedules `drain` for when one is due. */
  private throttled (): boolean {
    const now = Date.now()
    let wait = this.rate?.take(now) ?? 0
    let byAddress = false
    if (wait === 0 && this.address !== undefined) {
      wait = this.address.take(now)
      // The connection's own token goes back: the message did not run.
      if (wait > 0) {
        this.rate?.refund()
        byAddress = true
      }
    }
    if (wait === 0) return false
    if (!this.paused) {
      this.paused = true
      this.flow.pause()
    }
    this.host.throttled?.(this.owner, byAddress)
    this.timer = setTimeout(resumeAfterThrottle, wait, this)
    return true
  }

  /** @internal The throttle's timer fired (a function for every inbox, not a closure each). */
  resumed (): void {
    this.timer = undefined
    this.drain()
  }

  /** Runs one message; false when its handler returned a promise, which holds the queue until it settles. */
  private run (def: MessageDef, body: unknown): boolean {
    let result: void | Promise<void>
    try {
      result = this.host.exec(this.owner, def, body)
    } catch (err) {
      this.host.failed(this.owner, err, def)
      return true
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(() => this.drain(), (err: unknown) => {
        this.host.failed(this.owner, err, def)
        this.drain()
      })
      return false
    }
    return true
  }

  /** Runs the waiting messages in order, until one is asynchronous or none is left (or this turn's slice is spent). */
  private drain (): void {
    while (this.head < this.queue.length) {
      if (!inSlice()) {
        setImmediate(resumeAfterThrottle, this)
        return
      }
      if (this.limited && this.throttled()) return
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

function resumeAfterThrottle (inbox: Inbox<any>): void {
  inbox.resumed()
}
