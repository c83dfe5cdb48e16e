import type { GateLogger } from './logger.js'

/**
 * A cluster-wide presence event (docs/sessions.md, "Presence hooks"). Each
 * fires once in the cluster, on one node: the node of the connection that
 * caused it, or, with `died: true`, the node that removed a dead node's entries.
 *
 * - `online`: a uid's first connection across the cluster was bound;
 * - `offline`: its last one was unbound or closed (or its node died);
 * - `join` / `leave`: a connection entered or left a room (`leave` also when it
 *   closed, or when its node died).
 */
export type PresenceEvent =
  | { readonly type: 'online', readonly uid: string, readonly node: string, readonly died: false }
  | { readonly type: 'offline', readonly uid: string, readonly node: string, readonly died: boolean }
  | { readonly type: 'join', readonly room: string, readonly id: string, readonly uid: string | undefined, readonly node: string, readonly died: false }
  | { readonly type: 'leave', readonly room: string, readonly id: string, readonly uid: string | undefined, readonly node: string, readonly died: boolean }

/** Runs after the event; an error or a rejection is logged, never thrown at the gate. */
export type PresenceHook = (event: PresenceEvent) => void | Promise<void>

/** The gate's presence hooks, and the one place that runs them. */
export class PresenceEvents {
  private readonly hooks: PresenceHook[] = []
  private readonly log: GateLogger

  constructor (log: GateLogger) {
    this.log = log
  }

  /** Whether any hook is set: directories skip building events nobody reads. */
  get wanted (): boolean {
    return this.hooks.length > 0
  }

  add (hook: PresenceHook): void {
    this.hooks.push(hook)
  }

  emit (event: PresenceEvent): void {
    for (const hook of this.hooks) {
      try {
        const done = hook(event)
        if (done !== undefined) done.catch((err: unknown) => { this.failed(err, event) })
      } catch (err) {
        this.failed(err, event)
      }
    }
  }

  private failed (err: unknown, event: PresenceEvent): void {
    this.log.warn({ err, event: event.type }, 'presence hook failed')
  }
}
