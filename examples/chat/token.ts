/**
 * Prints a login token for the example app:
 *   npm run token -- <uid> [--ttl <seconds>]
 * Valid for one hour unless `--ttl` says otherwise (`--ttl 0`: no expiry).
 * Uses GATE_TOKEN_SECRET (default "dev-secret", as the app does).
 */
import { tokenCli } from './token-cli.js'

const { code, stdout, stderr } = tokenCli(process.argv.slice(2))
process.stdout.write(stdout)
process.stderr.write(stderr)
process.exitCode = code
