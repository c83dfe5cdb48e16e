import { TokenBucket, type Budget } from './token-bucket.js'

/** Why a new connection was refused. */
export type Refusal = 'full' | 'ip-limit' | 'ip-rate' | 'not-serving'

/** The admission limits (0 disables a per-IP limit). */
export interface AdmissionLimits {
  maxConnNum: number
  maxConnPerIp: number
  connRatePerIp: number
  loginRatePerIp: number
  /** Absent or 0: no message budget per address. */
  msgRatePerIp?: number
}

/**
 * One place taken in the gate by a connection or by a connection being set up
 * (an HTTP request whose headers are still arriving, an upgrade in progress).
 * It is released exactly once, whoever releases it.
 */
export class Slot {
  /** @internal */ released = false
  readonly ip: string
  /** An HTTP connection still sending headers: counted per IP and on its own, not toward `maxConnNum`. */
  readonly unfinished: boolean
  constructor (ip: string, unfinished = false) {
    this.ip = ip
    this.unfinished = unfinished
  }
}

/**
 * Who may connect: the gate-wide cap (`maxConnNum`), the per-IP cap on open
 * connections, the per-IP rate of new connections, and the per-IP throttle of
 * login attempts. Every transport and protocol goes through it, and so do HTTP
 * connections that have not finished their headers yet, so none of them can
 * take the process's file descriptors around the caps.
 *
 * Per-IP state lives only while it matters: counts are dropped at zero, buckets
 * once full again (`sweep`), so the maps are bounded by the addresses active in
 * the last few seconds.
 */
export class Admission {
  private readonly limits: AdmissionLimits
  private readonly open = new Map<string, number>()
  private readonly unfinishedByIp = new Map<string, number>()
  private readonly connects = new Map<string, TokenBucket>()
  private readonly logins = new Map<string, TokenBucket>()
  private readonly messages = new Map<string, TokenBucket>()
  private inUse = 0
  private unfinished = 0

  constructor (limits: AdmissionLimits) {
    this.limits = limits
  }

  /** Places taken: open connections plus connections being set up. */
  get used (): number {
    return this.inUse
  }

  /** Places taken by one address. */
  usedBy (ip: string): number {
    return this.open.get(ip) ?? 0
  }

  /** HTTP connections still sending their first request's headers. */
  get unfinishedHttp (): number {
    return this.unfinished
  }

  /**
   * Takes a place for a new connection from `ip`, or says why not. A connection
   * or an upgrade in progress counts toward `maxConnNum`, its IP's cap and its
   * IP's connect rate.
   */
  admit (ip: string, now: number): Slot | Refusal {
    const l = this.limits
    if (this.inUse >= l.maxConnNum) return 'full'
    const n = this.open.get(ip) ?? 0
    if (l.maxConnPerIp > 0 && n >= l.maxConnPerIp) return 'ip-limit'
    if (l.connRatePerIp > 0) {
      let bucket = this.connects.get(ip)
      if (bucket === undefined) {
        bucket = new TokenBucket(l.connRatePerIp, l.connRatePerIp * 2, now)
        this.connects.set(ip, bucket)
      }
      if (bucket.take(now) > 0) return 'ip-rate'
    }
    this.open.set(ip, n + 1)
    this.inUse++
    return new Slot(ip)
  }

  /**
   * Takes a place for an HTTP connection that has not sent its headers yet.
   * These are counted apart: at most `maxConnPerIp` per IP (so one address
   * cannot hold thousands of half-open requests) and `maxConnNum` in all. They
   * count neither toward the open connections (a full gate or address still
   * gets its HTTP 503, and the admin API stays reachable) nor toward the
   * connect rate (a proxy opens many).
   */
  admitUnfinished (ip: string): Slot | Refusal {
    const l = this.limits
    if (this.unfinished >= l.maxConnNum) return 'full'
    const n = this.unfinishedByIp.get(ip) ?? 0
    if (l.maxConnPerIp > 0 && n >= l.maxConnPerIp) return 'ip-limit'
    this.unfinishedByIp.set(ip, n + 1)
    this.unfinished++
    return new Slot(ip, true)
  }

  /** Gives the place back; later calls for the same slot do nothing. */
  release (slot: Slot): void {
    if (slot.released) return
    slot.released = true
    const counts = slot.unfinished ? this.unfinishedByIp : this.open
    if (slot.unfinished) this.unfinished--
    else this.inUse--
    const n = (counts.get(slot.ip) ?? 1) - 1
    if (n > 0) counts.set(slot.ip, n)
    else counts.delete(slot.ip)
  }

  /**
   * A login attempt from `ip`: 0 when it may run now (it took a token, which
   * `loginSucceeded` gives back), else the ms to wait. Failed logins keep their
   * token, so only they are throttled.
   */
  loginWait (ip: string, now: number): number {
    const rate = this.limits.loginRatePerIp
    if (rate === 0) return 0
    let bucket = this.logins.get(ip)
    if (bucket === undefined) {
      bucket = new TokenBucket(rate, rate * 2, now)
      this.logins.set(ip, bucket)
    }
    return bucket.take(now)
  }

  loginSucceeded (ip: string): void {
    this.logins.get(ip)?.refund()
  }

  /**
   * The message budget every connection of `ip` shares (`msgRatePerIp`), or
   * undefined when there is none. The bucket itself is looked up at each take,
   * so that it can be forgotten once full and made again by whichever
   * connection of that address comes next.
   */
  messageBudget (ip: string): Budget | undefined {
    return (this.limits.msgRatePerIp ?? 0) > 0 ? new AddressBudget(this, ip) : undefined
  }

  /** @internal One message from `ip`: 0 when it may run now, else the ms to wait. */
  messageWait (ip: string, now: number): number {
    let bucket = this.messages.get(ip)
    if (bucket === undefined) {
      const rate = this.limits.msgRatePerIp!
      bucket = new TokenBucket(rate, rate * 2, now)
      this.messages.set(ip, bucket)
    }
    return bucket.take(now)
  }

  /** @internal */
  messageRefund (ip: string): void {
    this.messages.get(ip)?.refund()
  }

  /** Forgets buckets that are full again (called by the gate's shared timer). */
  sweep (now: number): void {
    for (const [ip, bucket] of this.connects) if (bucket.isFull(now)) this.connects.delete(ip)
    for (const [ip, bucket] of this.logins) if (bucket.isFull(now)) this.logins.delete(ip)
    for (const [ip, bucket] of this.messages) if (bucket.isFull(now)) this.messages.delete(ip)
  }
}

/** One connection's view of its address's message budget (an object, not a closure, per connection). */
class AddressBudget implements Budget {
  private readonly admission: Admission
  private readonly ip: string

  constructor (admission: Admission, ip: string) {
    this.admission = admission
    this.ip = ip
  }

  take (now: number): number {
    return this.admission.messageWait(this.ip, now)
  }

  refund (): void {
    this.admission.messageRefund(this.ip)
  }
}
