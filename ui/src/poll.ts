import { useEffect, useRef, useState } from 'preact/hooks'

export interface Polled<T> {
  data: T | undefined
  error: Error | undefined
  /** Fetches again now. */
  refresh: () => void
}

/**
 * Calls `load` now and every `ms` while the tab is visible, one call at a time;
 * a change of `deps` starts over. Polling at a fixed rate keeps the cost of an
 * open dashboard the same whatever happens on the gate.
 */
export function usePoll<T> (load: () => Promise<T>, ms: number, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<Error | undefined>(undefined)
  const tick = useRef<() => void>(() => {})

  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let running = false
    const run = async (): Promise<void> => {
      if (stopped || running) return
      clearTimeout(timer)
      running = true
      try {
        if (!document.hidden) {
          const next = await load()
          if (!stopped) { setData(next); setError(undefined) }
        }
      } catch (err) {
        if (!stopped) setError(err as Error)
      } finally {
        running = false
        if (!stopped) timer = setTimeout(() => { void run() }, ms)
      }
    }
    tick.current = () => { void run() }
    void run()
    return () => { stopped = true; clearTimeout(timer) }
  }, deps)

  return { data, error, refresh: () => tick.current() }
}
