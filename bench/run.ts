/**
 * The benchmark runner: `npm run bench [scenario...]` (echo, idle, fanout,
 * cluster, soak, mqtt; all by default). Saves each scenario's figures to
 * bench/results/<scenario>.json, then writes BENCHMARKS.md and the chart.
 */
import { writeFileSync } from 'node:fs'
import { build } from './lib/build.js'
import { log } from './lib/log.js'
import { describe, machine } from './lib/machine.js'
import type { ScenarioResult } from './lib/params.js'
import { resultFile, writeReport, type SavedResult } from './lib/report.js'
import * as cluster from './scenarios/cluster.js'
import * as echo from './scenarios/echo.js'
import * as fanout from './scenarios/fanout.js'
import * as idle from './scenarios/idle.js'
import * as mqtt from './scenarios/mqtt.js'
import * as soak from './scenarios/soak.js'

const scenarios: Record<string, () => Promise<ScenarioResult>> = { echo: echo.run, idle: idle.run, fanout: fanout.run, cluster: cluster.run, soak: soak.run, mqtt: mqtt.run }

const asked = process.argv.slice(2)
const unknown = asked.filter(name => !(name in scenarios))
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}\n`)
  process.exit(2)
}
const names = asked.length > 0 ? asked : Object.keys(scenarios)
const m = machine()
log(`fastify-gate benchmarks: ${names.join(', ')}`)
log(`machine: ${describe(m)}`)
log(`note: server and load generators share these ${m.cores} cores; all traffic on 127.0.0.1`)
build()

// A run limited to some contenders is for experiments: it does not replace the saved figures.
const partial = (process.env.BENCH_ONLY ?? '') !== '' || (process.env.BENCH_BEFORE ?? '') !== ''
if (partial) log('BENCH_ONLY or BENCH_BEFORE is set: results are printed, not saved, and BENCHMARKS.md is left alone')

let failed = false
for (const name of names) {
  log(`== ${name}`)
  const start = Date.now()
  try {
    const result = await scenarios[name]()
    const saved: SavedResult = { ...result, machine: machine(), seconds: (Date.now() - start) / 1000 }
    if (!partial) writeFileSync(resultFile(name), JSON.stringify(saved, null, 1) + '\n')
  } catch (err) {
    failed = true
    log(`${name} failed: ${(err as Error).stack ?? String(err)}`)
  }
}
if (!partial) {
  const out = writeReport()
  log(`wrote ${out.file} and ${out.chart}`)
}
process.exit(failed ? 1 : 0)
