import type { LogFn } from 'pino'

/** The part of a pino logger the core uses; Fastify's `app.log` fits it. */
export interface GateLogger {
  child (bindings: Record<string, unknown>): GateLogger
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}
