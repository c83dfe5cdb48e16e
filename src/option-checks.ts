import type { TlsOptions } from 'node:tls'
import { GateError } from './errors.js'

/** Throws `FST_GATE_INVALID_OPTION` naming the option and why. */
export const fail = (option: string, why: string): never => {
  throw new GateError.INVALID_OPTION(option, why)
}

/** An integer option within [min, max], or `FST_GATE_INVALID_OPTION`. */
export function int (option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(option, `must be an integer, got ${JSON.stringify(value)}`)
  if ((value as number) < min || (value as number) > max) fail(option, `must be between ${min} and ${max}, got ${value as number}`)
  return value as number
}

/** A boolean option, or `FST_GATE_INVALID_OPTION`. */
export function bool (option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(option, `must be a boolean, got ${JSON.stringify(value)}`)
  return value as boolean
}

/** Refuses the keys of an options object that are not in `keys`: a misspelt option is an error, not a silent default. */
export function known (option: string, value: object, keys: readonly string[]): void {
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(`${option}.${key}`, `is not an option here (${keys.join(', ')})`)
}

/** A WebSocket path: a string starting with "/". */
export function wsPath (option: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) fail(option, `must be a string starting with "/", got ${JSON.stringify(value)}`)
  return value as string
}

/** A TCP (or TLS) listener `{ port, host?, tls? }`; `host` defaults to 127.0.0.1. */
export function tcpListener (option: string, value: unknown): { port: number, host: string, tls?: TlsOptions } {
  if (typeof value !== 'object' || value === null) fail(option, 'must be an object { port, host?, tls? }')
  const v = value as { port?: unknown, host?: unknown, tls?: unknown }
  known(option, v, ['port', 'host', 'tls'])
  const port = int(`${option}.port`, v.port, 0, 65535)
  const host = v.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host.length === 0) fail(`${option}.host`, 'must be a non-empty string')
  if (v.tls !== undefined && (typeof v.tls !== 'object' || v.tls === null)) fail(`${option}.tls`, 'must be node:tls server options')
  return v.tls === undefined ? { port, host: host as string } : { port, host: host as string, tls: v.tls as TlsOptions }
}
