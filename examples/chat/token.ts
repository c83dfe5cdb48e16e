/**
 * Prints a login token for the example app:
 *   npm run token -- <uid> [ttl-seconds]
 * Uses GATE_TOKEN_SECRET (default "dev-secret", as the app does).
 */
import { loadConfig } from './config.js'
import { tokenSigner } from './tokens.js'

const [uid, ttl] = process.argv.slice(2)
if (!uid) {
  process.stderr.write('usage: npm run token -- <uid> [ttl-seconds]\n')
  process.exit(2)
}
const ttlSeconds = ttl === undefined ? undefined : Number(ttl)
if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) {
  process.stderr.write('ttl-seconds must be a positive integer\n')
  process.exit(2)
}
const config = loadConfig()
if (config.tokenSecretDefaulted) process.stderr.write('warning: GATE_TOKEN_SECRET is not set; signing with the insecure default "dev-secret"\n')
process.stdout.write(tokenSigner(config.tokenSecret, ttlSeconds)(uid) + '\n')
