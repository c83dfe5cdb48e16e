/** `agent.bind(uid, { resume })`: ask for positions, and for the messages missed since `resume`. */
export interface BindOptions {
  /**
   * The last position the client saw (`"<epoch>:<offset>"`), or `''` when it has
   * none yet (first login). Either way the connection gets positions from now on.
   */
  resume?: string
}

/** What a resume found (the application tells its client). */
export interface Recovery {
  /** True when every message after the client's position was replayed: no cap, expiry or lost stream got in the way. */
  recovered: boolean
  /** Messages replayed, sent before this resolved. */
  replayed: number
  /** The position after the replay: what the client resumes from if nothing else arrives. */
  pos: string
}
