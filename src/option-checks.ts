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
