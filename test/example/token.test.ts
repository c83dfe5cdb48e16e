/**
 * `npm run token`: tokens expire (one hour by default, `--ttl <seconds>`,
 * `--ttl 0` for none), and the example app refuses an expired one at login
 * with `S2C_UserLogin { ret: 0 }` and 4003, on both transports.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DEFAULT_TOKEN_TTL_SECONDS, tokenCli } from '../../examples/chat/token-cli.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { nodeArgs } from '../node-script.js'
import { CloseCode } from '../../src/close-codes.js'
import { until } from '../helper.js'
import { SECRET, startChat } from './helper.js'

/** The claims of a JWT, read from the wire form (not through the library that signed it). */
function claims (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.trim().split('.')[1], 'base64url').toString())
}

const env = { GATE_TOKEN_SECRET: SECRET }

describe('npm run token', () => {
  test('the default token expires in one hour; --ttl sets it; --ttl 0 gives none', () => {
    assert.equal(DEFAULT_TOKEN_TTL_SECONDS, 3600)
    const plain = tokenCli(['alice'], env)
    assert.equal(plain.code, 0)
    assert.equal(plain.stderr, '')
    const c = claims(plain.stdout)
    assert.equal(c.sub, 'alice')
    assert.equal((c.exp as number) - (c.iat as number), 3600)
    const short = claims(tokenCli(['bob', '--ttl', '60'], env).stdout)
    assert.equal((short.exp as number) - (short.iat as number), 60)
    assert.equal(claims(tokenCli(['--ttl=120', 'carol'], env).stdout).sub, 'carol')
    assert.equal('exp' in claims(tokenCli(['dave', '--ttl', '0'], env).stdout), false)
  })

  test('bad arguments exit 2 with the usage, which documents --ttl', () => {
    for (const args of [[], ['a', 'b'], ['a', '--ttl', '-1'], ['a', '--ttl', '1.5'], ['a', '--ttl', 'soon'], ['a', '--ttl', ''], ['a', '--ttl'], ['a', '--nope']]) {
      const r = tokenCli(args, env)
      assert.equal(r.code, 2, JSON.stringify(args))
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /usage: npm run token -- <uid> \[--ttl <seconds>\]/)
      assert.match(r.stderr, /--ttl <seconds> .*default 3600.*0 for a token that never expires/)
    }
    assert.equal(tokenCli(['--help'], env).code, 0)
  })

  test('the script itself prints a token with exp', async () => {
    const script = fileURLToPath(new URL('../../examples/chat/token.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs(script), 'erin', '--ttl', '30'], { env: { ...process.env, ...env } })
    const c = claims(stdout)
    assert.equal(c.sub, 'erin')
    assert.equal((c.exp as number) - (c.iat as number), 30)
  })
})

for (const transport of ['ws', 'tcp'] as const) {
  test(`${transport}: an expired token is refused at login (ret 0, 4003); a fresh one from the script is accepted`, async (t) => {
    const chat = await startChat(t, 'json')
    const expired = tokenSigner(SECRET, DEFAULT_TOKEN_TTL_SECONDS, Date.now() - 2 * 3600_000)('late')
    assert.ok((claims(expired).exp as number) < Date.now() / 1000, 'the token is expired')
    const late = await chat.connect(transport)
    late.send('C2S_UserLogin', { token: expired, login_plat: 1 })
    assert.deepEqual((await late.nextOf('S2C_UserLogin')).body, { ret: 0, msg: 'invalid token', uid: '' })
    const seen = await late.closed
    if (transport === 'ws') assert.equal(seen.code, CloseCode.UNAUTHORIZED)
    await until(() => chat.closes.length === 1, 5000, 'the disconnect')
    assert.equal(chat.closes[0].code, CloseCode.UNAUTHORIZED)

    const fresh = await chat.connect(transport)
    fresh.send('C2S_UserLogin', { token: tokenCli(['alice'], env).stdout.trim(), login_plat: 1 })
    assert.deepEqual((await fresh.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid: 'alice' })
    await fresh.close()
  })
}
