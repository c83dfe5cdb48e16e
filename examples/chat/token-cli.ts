import { parseArgs } from 'node:util'
import { loadConfig } from './config.js'
import { tokenSigner } from './tokens.js'

/** How long a token from `npm run token` is valid when `--ttl` is not given: one hour. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600

export const TOKEN_USAGE = `usage: npm run token -- <uid> [--ttl <seconds>]

Prints a login token (a JWT signed HS256 with GATE_TOKEN_SECRET, sub = uid) for the example app.
  --ttl <seconds>  how long the token is valid: default ${DEFAULT_TOKEN_TTL_SECONDS} (one hour); 0 for a token that never expires
`

export interface TokenCliResult {
  /** The process exit code: 0, or 2 for a usage error. */
  code: number
  stdout: string
  stderr: string
}

/** `npm run token`, without the process: parses `args`, reads the secret from `env`, signs. */
export function tokenCli (args: string[], env: NodeJS.ProcessEnv = process.env): TokenCliResult {
  let uid: string | undefined
  let ttl: string | undefined
  try {
    const { values, positionals } = parseArgs({ args, options: { ttl: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true })
    if (values.help === true) return { code: 0, stdout: TOKEN_USAGE, stderr: '' }
    if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'a uid is required' : `one uid only, got ${positionals.length} arguments`)
    uid = positionals[0]
    ttl = values.ttl
  } catch (err) {
    return { code: 2, stdout: '', stderr: `${(err as Error).message}\n${TOKEN_USAGE}` }
  }
  const ttlSeconds = ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : Number(ttl)
  if (ttl?.trim() === '' || !Number.isInteger(ttlSeconds) || ttlSeconds < 0) {
    return { code: 2, stdout: '', stderr: `--ttl must be a whole number of seconds, 0 or more, got "${ttl}"\n${TOKEN_USAGE}` }
  }
  const config = loadConfig(env)
  const warning = config.tokenSecretDefaulted ? 'warning: GATE_TOKEN_SECRET is not set; signing with the insecure default "dev-secret"\n' : ''
  return { code: 0, stdout: tokenSigner(config.tokenSecret, ttlSeconds)(uid) + '\n', stderr: warning }
}
