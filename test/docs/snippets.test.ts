/**
 * Every fenced ```ts block of README.md and docs/*.md compiles in an app made as
 * a user makes one (test/docs/snippets.ts says how, and how a block is marked).
 * Two altered blocks go through the same programs and must fail: a wrong body,
 * and a line documented as "does not compile" that compiles.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileSnippets, docSnippets, type Failure, type Snippet } from './snippets.js'

const snippets = docSnippets()

function altered (file: string, find: string, replace: string): Snippet {
  const snippet = snippets.find(s => s.file === file && s.code.includes(find))
  assert.ok(snippet, `${file} has a block with ${find}`)
  return { ...snippet, file: `${file} (altered)`, code: snippet.code.replace(find, replace) }
}

const wrongBody = altered('docs/client.md', "client.send('C2S_Message', { room: 'lobby', content: 'hello' })", "client.send('C2S_Message', { room: 'lobby', content: 1 })")
const falseClaim = altered('docs/client.md', "client.send('Say', { room: 'lobby', text: 'hi' })   // ok", "client.send('Say', { room: 'lobby', text: 'hi' })   // does not compile")

let failures: Failure[] | undefined
const compiled = (): Failure[] => (failures ??= compileSnippets([...snippets, wrongBody, falseClaim]))

test('README.md and docs/ have TypeScript blocks, the CommonJS one among them', () => {
  assert.ok(snippets.length >= 10, `${snippets.length} blocks`)
  assert.ok(snippets.some(s => s.file === 'README.md' && s.commonjs))
  assert.ok(snippets.some(s => s.file === 'docs/client.md' && s.code.includes('resume_pos')))
})

test('every TypeScript block of README.md and docs/ compiles', { timeout: 180_000 }, () => {
  const mine = compiled().filter(f => snippets.includes(f.snippet)).map(f => f.message)
  assert.deepEqual(mine, [])
})

test('a broken block fails: a wrong body, and a "does not compile" that compiles', { timeout: 180_000 }, () => {
  const of = (s: Snippet): string[] => compiled().filter(f => f.snippet === s).map(f => f.message)
  assert.match(of(wrongBody).join('\n'), /TS2322/)
  assert.match(of(falseClaim).join('\n'), /TS2578/)
})
