/**
 * `npm test`'s test run: the TypeScript compiled once (test/compile.ts), every
 * test file run from the compiled tree by `node:test` (test/run-files.ts),
 * four files at a time (`GATE_TEST_CONCURRENCY`), the slowest first,
 * with V8 coverage, then c8's report and thresholds (.c8rc.json) over the
 * original `.ts` files (test/coverage.ts).
 *
 *   npx tsx test/run.ts                      every test file
 *   npx tsx test/run.ts test/inbox.test.ts   only these (coverage thresholds then off)
 *
 * One test straight from the sources, without all this:
 * `node --test --import tsx test/inbox.test.ts`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compile, OUT } from './compile.js'
import { remapCoverage } from './coverage.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const COVERAGE = join(ROOT, 'coverage', 'tmp')

/** test/*.test.ts and test/<dir>/*.test.ts, listed (node --test on Node 20 does not expand a glob). */
function allTests (): string[] {
  const found: string[] = []
  for (const e of readdirSync(join(ROOT, 'test'), { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.test.ts')) found.push(join('test', e.name))
    if (!e.isDirectory()) continue
    for (const f of readdirSync(join(ROOT, 'test', e.name))) {
      if (f.endsWith('.test.ts')) found.push(join('test', e.name, f))
    }
  }
  return found.sort()
}

/**
 * The files that take longest (wall time, seconds: mostly waits on restarts,
 * recipes and browsers), started first so that the run does not end on one
 * of them alone. A file not listed runs after these, in name order.
 */
const SLOW_FIRST = [
  'test/example/recipes.test.ts', 'test/example/workers.test.ts', 'test/docs/snippets.test.ts',
  'test/client/room-resume.test.ts', 'test/cluster/crash.test.ts', 'test/client/resume.test.ts',
  'test/dashboard/dashboard.test.ts', 'test/abuse/history-redis.test.ts', 'test/history/cluster.test.ts',
  'test/example/cluster-workers.test.ts', 'test/client/browser-resume.test.ts', 'test/cluster/rooms.test.ts',
  'test/cluster/redis-cluster.test.ts'
]

function slowFirst (files: string[]): string[] {
  const rank = (f: string): number => { const i = SLOW_FIRST.indexOf(f); return i === -1 ? SLOW_FIRST.length : i }
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
}

/** Test files run at once: `GATE_TEST_CONCURRENCY`, else 4 (most of a file's time is spent waiting on sockets and timers). */
function concurrency (): number {
  const raw = process.env.GATE_TEST_CONCURRENCY
  if (raw === undefined || raw === '') return 4
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`GATE_TEST_CONCURRENCY must be a whole number >= 1, got ${JSON.stringify(raw)}`)
  return n
}

const chosen = process.argv.slice(2)
const tests = chosen.length > 0 ? chosen.map(f => relative(ROOT, join(process.cwd(), f))) : slowFirst(allTests())
for (const t of tests) {
  if (!t.endsWith('.test.ts') || !existsSync(join(ROOT, t))) throw new Error(`not a test file: ${t}`)
}

const started = Date.now()
const compiled = await compile()
process.stdout.write(`${compiled} TypeScript files compiled into .test-js/ in ${Date.now() - started} ms; ${tests.length} test files\n`)

rmSync(join(ROOT, 'coverage'), { recursive: true, force: true })
const run = spawnSync(process.execPath, [
  join(OUT, 'test', 'run-files.js'), ...tests.map(t => join(OUT, t.replace(/\.ts$/, '.js')))
], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_V8_COVERAGE: COVERAGE, GATE_TEST_CONCURRENCY: String(concurrency()) } })

const { leftOut, unreadable } = remapCoverage(ROOT, COVERAGE)
if (leftOut > 0) process.stdout.write(`coverage: ${leftOut} script coverages of files tsx compiled differently left out (test/coverage.ts)\n`)
if (unreadable > 0) process.stdout.write(`coverage: ${unreadable} coverage files cut short (a process killed while writing it) skipped\n`)
const c8 = join(ROOT, 'node_modules', '.bin', 'c8')
const report = spawnSync(c8, ['report', ...(chosen.length > 0 ? ['--check-coverage=false'] : [])], { cwd: ROOT, stdio: 'inherit' })

process.stdout.write(`test/run.ts: ${tests.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
process.exitCode = run.status !== 0 ? (run.status ?? 1) : (report.status ?? 1)
