/**
 * Prints the functions with the most self time in a V8 `.cpuprofile`
 * (`BENCH_CPU_PROF=1 npm run bench:echo` writes them to .bench-tmp/prof):
 *
 *     npx tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [count]
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

const [file, countArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [count]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const self = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  const f = byId.get(id)!.callFrame
  const where = f.url === '' ? '' : ` ${f.url.split('node_modules/').pop()!.replace(/^file:\/\/.*\/(src|bench|plugins|examples)\//, '$1/').replace(/^node:/, 'node:')}:${f.lineNumber + 1}`
  const key = `${f.functionName || '(anonymous)'}${where.includes('/') ? ' ' + path.basename(where) : where}`
  self.set(key, (self.get(key) ?? 0) + dt)
  total += dt
})
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 40))
const busy = total - (self.get('(idle)') ?? 0)
process.stdout.write(`sampled ${(total / 1000).toFixed(0)} ms, busy ${(busy / 1000).toFixed(0)} ms\n`)
for (const [key, us] of rows) process.stdout.write(`${(us / total * 100).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`)
