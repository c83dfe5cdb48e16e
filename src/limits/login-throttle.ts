import type { Admission } from './admission.js'

/** What a login attempt is made on: the connection, by its address. */
interface Attempting { readonly remoteAddress: string, readonly uid: string | undefined }

/**
 * The per-IP throttle of failed logins (`loginRatePerIp`), for login messages
 * and for credentials a protocol got at connect alike. A connection's first
 * attempt takes a token of its IP's bucket (in `Admission`) and holds it; a
 * successful bind gives it back, so only failed logins use the rate up.
 */
export class LoginThrottle {
  private readonly admission: Admission
  private readonly enabled: boolean
  private readonly onThrottled: () => void
  /** Connections whose attempt holds a token of their IP. */
  private readonly holding = new WeakSet<Attempting>()

  constructor (admission: Admission, loginRatePerIp: number, onThrottled: () => void) {
    this.admission = admission
    this.enabled = loginRatePerIp > 0
    this.onThrottled = onThrottled
  }

  /**
   * A login attempt on a connection without a uid: 0 when it may go on, else
   * the ms to wait (counted as a throttled login).
   */
  attempt (conn: Attempting): number {
    if (!this.enabled || conn.uid !== undefined || this.holding.has(conn)) return 0
    const wait = this.admission.loginWait(conn.remoteAddress, Date.now())
    if (wait > 0) {
      this.onThrottled()
      return wait
    }
    this.holding.add(conn)
    return 0
  }

  /** The connection bound a uid: its token goes back to its IP. */
  succeeded (conn: Attempting): void {
    if (!this.holding.delete(conn)) return
    this.admission.loginSucceeded(conn.remoteAddress)
  }
}
