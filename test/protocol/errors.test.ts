/**
 * The gate's ProtocolError codes come from one table (PROTOCOL_ERRORS), with
 * their close codes, and docs/guide.md lists the same codes with the same close
 * codes; no source file makes one of its own.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { PROTOCOL_ERRORS, protocolError } from '../../src/protocol-error.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

test('docs/guide.md lists every ProtocolError code with its close code, and no other', () => {
  const guide = readFileSync(join(root, 'docs/guide.md'), 'utf8')
  const documented = Object.fromEntries([...guide.matchAll(/^\| `(GATE_[A-Z_]+)` \| (\d{4}) \|/gm)].map(m => [m[1], Number(m[2])]))
  assert.deepEqual(documented, { ...PROTOCOL_ERRORS })
})

test('protocolError takes the close code from the table', () => {
  for (const [code, closeCode] of Object.entries(PROTOCOL_ERRORS)) {
    const err = protocolError(code as keyof typeof PROTOCOL_ERRORS, 'x')
    assert.deepEqual([err.code, err.closeCode, err.message], [code, closeCode, 'x'])
  }
})

test('no source file makes a ProtocolError of its own: every code is in the table', () => {
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts') && f !== 'protocol-error.ts')
  const own = files.filter(f => /new ProtocolError\(/.test(readFileSync(join(root, 'src', f), 'utf8')))
  assert.deepEqual(own, [])
})
