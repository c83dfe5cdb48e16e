/**
 * Counts the objects of a V8 heap snapshot by constructor (`BENCH_HEAP_SNAPSHOT=1
 * npm run bench:idle` writes them to .bench-tmp/heap), biggest self size first:
 *
 *     npx tsx bench/tools/heap-top.ts <file.heapsnapshot> [count]
 */
import { readFileSync } from 'node:fs'

const [file, countArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: tsx bench/tools/heap-top.ts <file.heapsnapshot> [count]\n')
  process.exit(2)
}
const snap = JSON.parse(readFileSync(file, 'utf8')) as {
  snapshot: { meta: { node_fields: string[], node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}
const fields = snap.snapshot.meta.node_fields
const types = snap.snapshot.meta.node_types[0]
const width = fields.length
const iType = fields.indexOf('type')
const iName = fields.indexOf('name')
const iSize = fields.indexOf('self_size')
const rows = new Map<string, { count: number, size: number }>()
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + iType]]
  const name = type === 'object' || type === 'closure' ? `${type === 'closure' ? 'closure ' : ''}${snap.strings[snap.nodes[i + iName]]}` : `(${type})`
  const row = rows.get(name) ?? { count: 0, size: 0 }
  row.count++
  row.size += snap.nodes[i + iSize]
  rows.set(name, row)
}
const top = [...rows].sort((a, b) => b[1].size - a[1].size).slice(0, Number(countArg ?? 40))
for (const [name, { count, size }] of top) process.stdout.write(`${String(count).padStart(8)} ${String(Math.round(size / 1024)).padStart(8)} KiB  ${name}\n`)
