import type { LogFn } from 'pino'

/**
 * The part of a pino logger the core uses; Fastify's `app.log` fits it.
 *
 * Keys of the gate's log lines, each bound once (pino writes a key bound twice
 * twice): `component: 'gate'` (the plugin's child of `app.log`), `part`
 * (`cluster`, `history`, `session`) for a part of the gate, `node` in the
 * cluster part, `agent`, `transport` and `protocol` for one connection.
 */
export interface GateLogger {
  child (bindings: Record<string, unknown>): GateLogger
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}
