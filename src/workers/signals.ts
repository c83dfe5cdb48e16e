/** The signals that stop a gateway gracefully. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const
export type StopSignal = typeof STOP_SIGNALS[number]

/**
 * Calls `stop` on the first SIGINT or SIGTERM. A terminal's Ctrl-C sends SIGINT
 * to every process of its foreground group at once (npm and node, the top
 * process and its workers), so another signal within `window` ms of the first
 * is the same one and is ignored; a later one calls `force` (exit now).
 * Returns a function that removes the listeners.
 */
export function onStopSignals (stop: (signal: StopSignal) => void, force: (signal: StopSignal) => void, window = 1000): () => void {
  let first: number | undefined
  const listener = (signal: StopSignal): void => {
    const now = Date.now()
    if (first === undefined) {
      first = now
      stop(signal)
    } else if (now - first > window) {
      force(signal)
    }
  }
  for (const signal of STOP_SIGNALS) process.on(signal, listener)
  return () => { for (const signal of STOP_SIGNALS) process.off(signal, listener) }
}
