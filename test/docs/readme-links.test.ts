/**
 * The README as the registry shows it: every link resolves there. A relative
 * link must name a file the tarball holds (package.json `files`, plus what npm
 * always adds), since the registry page has nothing else; a link into this
 * project's repository must name a file that exists here; and package.json
 * says where the repository, its home page and its issues are.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  files: string[]
  repository: { type: string, url: string }
  homepage: string
  bugs: { url: string }
}
const readme = readFileSync(join(repo, 'README.md'), 'utf8')
/** What npm packs besides `files`. */
const ALWAYS_PACKED = ['README.md', 'LICENSE', 'package.json']

/** The web address of the repository (`git+https://github.com/o/r.git` -> `https://github.com/o/r`). */
const web = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')

test('package.json names the repository, its home page and its issues', () => {
  assert.equal(pkg.repository.type, 'git')
  assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/)
  assert.equal(pkg.homepage, `${web}#readme`)
  assert.equal(pkg.bugs.url, `${web}/issues`)
})

test('every README link resolves on the registry page', () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]!)
  assert.ok(links.length > 10)
  const raw = web.replace('https://github.com/', 'https://raw.githubusercontent.com/')
  for (const link of links) {
    if (link.startsWith('#')) continue
    const inRepo = link.startsWith(`${web}/blob/main/`) ? link.slice(`${web}/blob/main/`.length) : link.startsWith(`${raw}/main/`) ? link.slice(`${raw}/main/`.length) : undefined
    if (inRepo !== undefined) {
      assert.ok(existsSync(join(repo, inRepo.split('#')[0]!)), `${link}: the file exists in the repository`)
      continue
    }
    if (/^https?:\/\//.test(link)) continue
    const path = link.split('#')[0]!
    assert.ok(existsSync(join(repo, path)), `${link}: the file exists`)
    assert.ok(ALWAYS_PACKED.includes(path) || pkg.files.some(f => path.startsWith(f)), `${link}: in the tarball (package.json "files"), or make it absolute`)
  }
})
