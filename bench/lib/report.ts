/**
 * BENCHMARKS.md and the chart, from the saved results of each scenario
 * (bench/results/<scenario>.json), so running one scenario keeps the others'
 * latest figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ClusterSample } from '../scenarios/cluster.js'
import type { EchoSample } from '../scenarios/echo.js'
import type { FanoutSample } from '../scenarios/fanout.js'
import type { IdleSample, ProbeResult } from '../scenarios/idle.js'
import type { SoakSample } from '../scenarios/soak.js'
import { barChart, type Panel } from './chart.js'
import { describe, type Machine } from './machine.js'
import type { ScenarioResult } from './params.js'
import { fixed, int, kib, median, medians, ratio } from './stats.js'

export type SavedResult = ScenarioResult & { machine: Machine, seconds: number }

const root = new URL('../../', import.meta.url)
export const resultFile = (scenario: string): URL => new URL(`bench/results/${scenario}.json`, root)
export const CHART = 'bench/chart.svg'

const LABELS: Record<string, string> = { 'gate-ws': 'fastify-gate', 'gate-tcp': 'fastify-gate', 'gate-mqtt': 'fastify-gate', 'bare-ws': 'bare ws', 'bare-net': 'bare net', 'socket.io': 'socket.io' }
const label = (id: string): string => LABELS[id] ?? id
const series = (id: string): string => id.startsWith('bare') ? 'bare' : label(id)

function load (scenario: string): SavedResult | undefined {
  const file = resultFile(scenario)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as SavedResult : undefined
}

function table (head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}

const measured = (r: SavedResult, how = `${String(r.params.rounds)} alternating rounds, medians`): string => `_Measured ${r.machine.date}, commit ${r.machine.commit}, ${how}, ${Math.round(r.seconds)} s._`

/**
 * The median over rounds of `contender / base` throughput, each ratio taken
 * between windows of the same round (seconds apart), so that a change in the
 * machine's background load between rounds cancels out.
 */
function pairedRatio (samples: readonly EchoSample[], contender: string, base: string, conns: number): number {
  const ratios: number[] = []
  for (const s of samples) {
    if (s.contender !== contender || s.conns !== conns) continue
    const b = samples.find(x => x.contender === base && x.conns === conns && x.round === s.round)
    if (b !== undefined) ratios.push(s.msgsPerSec / b.msgsPerSec)
  }
  return median(ratios)
}

/** An echo scenario's samples, their medians per contender and connection count, and the connection counts run. */
function echoMedians (r: SavedResult): { all: EchoSample[], get: (id: string, conns: number) => EchoSample | undefined, conns: number[] } {
  const all = r.data.samples as EchoSample[]
  const m = medians(all, s => `${s.contender}/${s.conns}`)
  const conns = [...new Set([...m.values()].map(s => s.conns))].sort((a, b) => a - b)
  return { all, get: (id, n) => m.get(`${id}/${n}`), conns }
}

interface Target { what: string, value: number, goal: number, atLeast: boolean, detail: string }

export function writeReport (): { file: string, chart: string } {
  const echo = load('echo')
  const idle = load('idle')
  const fanout = load('fanout')
  const cluster = load('cluster')
  const soak = load('soak')
  const mqtt = load('mqtt')
  const latest = [echo, idle, fanout, cluster, mqtt].filter((r): r is SavedResult => r !== undefined).sort((a, b) => b.machine.date.localeCompare(a.machine.date))[0]
  const targets: Target[] = []
  const panels: Panel[] = []
  const parts: string[] = []

  if (echo !== undefined && echo.skipped === undefined) {
    const { all, get, conns } = echoMedians(echo)
    const rows: string[][] = []
    for (const [transport, ids, base] of [['ws', ['gate-ws', 'bare-ws', 'socket.io'], 'bare-ws'], ['tcp', ['gate-tcp', 'bare-net'], 'bare-net']] as const) {
      for (const n of conns) {
        const b = get(base, n)
        for (const id of ids) {
          const s = get(id, n)
          if (s === undefined) continue
          rows.push([transport.toUpperCase(), int(n), label(id), int(s.msgsPerSec), fixed(s.p50), fixed(s.p99), fixed(s.serverUsPerMsg, 1), b === undefined || id === base ? '' : `${pairedRatio(all, id, base, n).toFixed(2)}x`])
        }
        const gate = get(ids[0], n)
        if (gate !== undefined && b !== undefined) {
          targets.push({ what: `${transport.toUpperCase()} echo vs ${label(base)}, ${int(n)} connections`, value: pairedRatio(all, ids[0], base, n), goal: 1, atLeast: true, detail: `${int(gate.msgsPerSec)} vs ${int(b.msgsPerSec)} msg/s; server CPU ${fixed(gate.serverUsPerMsg, 1)} vs ${fixed(b.serverUsPerMsg, 1)} µs/msg` })
        }
        const sio = get('socket.io', n)
        if (transport === 'ws' && gate !== undefined && sio !== undefined) {
          targets.push({ what: `WS echo vs socket.io, ${int(n)} connections`, value: pairedRatio(all, ids[0], 'socket.io', n), goal: 1.5, atLeast: true, detail: `${int(gate.msgsPerSec)} vs ${int(sio.msgsPerSec)} msg/s; server CPU ${fixed(gate.serverUsPerMsg, 1)} vs ${fixed(sio.serverUsPerMsg, 1)} µs/msg` })
        }
      }
    }
    panels.push({
      title: 'Echo throughput (higher is better)',
      unit: 'msg/s',
      groups: [
        ...conns.map(n => ({ label: `WS ${int(n)}`, bars: ['gate-ws', 'bare-ws', 'socket.io'].map(id => ({ series: series(id), value: get(id, n)?.msgsPerSec ?? NaN })) })),
        ...conns.map(n => ({ label: `TCP ${int(n)}`, bars: ['gate-tcp', 'bare-net'].map(id => ({ series: series(id), value: get(id, n)?.msgsPerSec ?? NaN })) }))
      ]
    })
    parts.push(`## 1. Echo: throughput and latency

Each connection is logged in and keeps one \`C2S_UserHeartBeat\` outstanding: the
client sends the next as soon as the answer arrives. The baselines do the same
JSON work (parse, check the envelope and the body's shape, answer). All the
servers of a transport run at once, each with its own load generator (servers
pinned to CPU 0, load generators to CPU 1), and the measurement windows
(${Number(echo.params.durationMs) / 1000} s each, after ${Number(echo.params.warmupMs) / 1000} s of warm-up) alternate between them, ${String(echo.params.rounds)}
windows each. Figures are medians over the windows; "vs bare" is the median of
the per-round ratios, each taken between windows seconds apart. Latency is the
client-measured round trip; "server CPU" is the server process's CPU time per
answered message (lower is better).

${measured(echo, `${String(echo.params.rounds)} alternating windows per server`)}

${table(['transport', 'connections', 'server', 'msg/s', 'p50 ms', 'p99 ms', 'server CPU µs/msg', 'vs bare'], rows)}`)
  }

  if (idle !== undefined && idle.skipped === undefined) {
    const m = medians(idle.data.samples as IdleSample[], s => s.contender)
    const rows = [...m.values()].map(s => {
      const base = m.get(s.transport === 'ws' ? 'bare-ws' : 'bare-net')
      return [s.transport.toUpperCase(), label(s.contender), int(s.conns), kib(s.rssPerConn), kib(s.heapPerConn), int(s.connectPerSec), base === undefined || base === s ? '' : `${ratio(s.rssPerConn, base.rssPerConn)} / ${ratio(s.heapPerConn, base.heapPerConn)}`]
    })
    const gate = m.get('gate-ws')
    const bare = m.get('bare-ws')
    if (gate !== undefined && bare !== undefined) {
      targets.push({ what: 'idle WebSocket memory per connection vs bare ws (RSS)', value: gate.rssPerConn / bare.rssPerConn, goal: 1.3, atLeast: false, detail: `${kib(gate.rssPerConn)} vs ${kib(bare.rssPerConn)} RSS; heap ${kib(gate.heapPerConn)} vs ${kib(bare.heapPerConn)} (${ratio(gate.heapPerConn, bare.heapPerConn)})` })
    }
    panels.push({
      title: 'Idle memory per connection (lower is better)',
      unit: 'KiB RSS',
      groups: [
        { label: 'WebSocket', bars: ['gate-ws', 'bare-ws', 'socket.io'].map(id => ({ series: series(id), value: (m.get(id)?.rssPerConn ?? NaN) / 1024 })) },
        { label: 'TCP', bars: ['gate-tcp', 'bare-net'].map(id => ({ series: series(id), value: (m.get(id)?.rssPerConn ?? NaN) / 1024 })) }
      ]
    })
    const probe = idle.data.probe as ProbeResult | undefined
    const probeText = probe === undefined
      ? 'The probe for the most connections was not run (`BENCH_IDLE_MAX=0`).'
      : `**How far it goes.** Asked for ${int(probe.asked)} WebSocket connections to one gate process, from ${probe.loadProcesses} load processes bound to ${probe.sourceAddresses.join(', ')} (one source address per process, so no source port range runs out): **${int(probe.reached)} were logged in** in ${Math.round(probe.seconds)} s, at ${kib(probe.rssPerConn)} RSS each. The server then had ${probe.serverFds < 0 ? 'no descriptor left (it could not even list /proc/self/fd: EMFILE)' : `${int(probe.serverFds)} descriptors open`}, against a limit of ${probe.serverFdLimit} (soft/hard)${probe.errors.length > 0 ? `; clients saw: ${probe.errors.slice(0, 4).join('; ')}` : ''}. ${probe.reached < probe.asked ? 'It stops at the per-process descriptor limit, one per socket: the hard limit here is fixed by the container (raising it with `ulimit -n` needs CAP_SYS_RESOURCE, which this machine refuses), not by memory.' : ''}`
    parts.push(`## 2. Idle connections: memory per connection

${int(Number(idle.params.conns))} connections opened and logged in (${'`C2S_UserLogin`'} with a JWT), then left idle.
Server RSS and V8 heap after a full GC, minus the same server's figures before the
first connection, divided by the connections. "logins/s" is the connect rate
(WebSocket or TCP connect + login answer, 128 in flight).

${measured(idle)}

${table(['transport', 'server', 'connections', 'RSS / conn', 'heap / conn', 'logins/s', 'vs bare (RSS / heap)'], rows)}

${probeText}`)
  }

  if (fanout !== undefined && fanout.skipped === undefined) {
    const m = medians(fanout.data.samples as FanoutSample[], s => s.contender)
    const rows = [...m.values()].map(s => [label(s.contender), int(s.conns), fixed(s.uidsMs, 1), fixed(s.roomMs, 1), fixed(s.broadcastMs, 1), int(s.singlePerSec)])
    panels.push({
      title: `Fan-out to ${int(Number(fanout.params.conns))} (lower is better)`,
      unit: 'ms until last received',
      groups: [
        { label: `${int(Number(fanout.params.pushUids))} uids`, bars: fanout.data.samples.length > 0 ? ['gate-ws', 'bare-ws', 'socket.io'].map(id => ({ series: series(id), value: m.get(id)?.uidsMs ?? NaN })) : [] },
        { label: 'room', bars: ['gate-ws', 'bare-ws', 'socket.io'].map(id => ({ series: series(id), value: m.get(id)?.roomMs ?? NaN })) },
        { label: 'broadcast', bars: ['gate-ws', 'bare-ws', 'socket.io'].map(id => ({ series: series(id), value: m.get(id)?.broadcastMs ?? NaN })) }
      ]
    })
    parts.push(`## 3. Fan-out

${int(Number(fanout.params.conns))} logged-in WebSocket connections, all in room \`bench\`. Each push goes
through the admin HTTP API (\`POST /gate/push\`, \`/gate/rooms/bench/push\`,
\`/gate/broadcast\`; the baselines serve the same routes on \`node:http\`) and is
timed from the request until the last client has received it (median of
${String(fanout.params.reps)} per round). Single-uid pushes: ${String(fanout.params.singleConcurrency)} requests in flight for ${String(fanout.params.singleSeconds)} s.

${measured(fanout)}

${table(['server', 'connections', `push to ${int(Number(fanout.params.pushUids))} uids, ms`, 'room push, ms', 'broadcast, ms', 'single-uid pushes/s'], rows)}`)
  }

  if (cluster !== undefined) {
    if (cluster.skipped !== undefined) {
      parts.push(`## 4. Cluster\n\nSkipped: ${cluster.skipped}.`)
    } else {
      const all = (cluster.data.samples as ClusterSample[]).map(s => ({ ...s, redis: s.redis ?? 'single', history: s.history ?? 'on', build: s.build ?? '' }))
      const key = (s: { redis: string, history: string, build: string, path: string }): string => `${s.redis}/${s.history}${s.build}/${s.path}`
      const m = medians(all, key)
      const redisLabel = (kind: string): string => kind === 'single' ? 'one Redis' : 'Redis Cluster'
      const rows = [...m.values()].map(s => [redisLabel(s.redis), s.history + s.build, s.path, fixed(s.pushP50), fixed(s.pushP99), int(s.msgsPerSec), fixed(s.msgP50), fixed(s.msgP99), fixed(s.gateCpuUs ?? NaN, 1), fixed(s.redisCpuUs ?? NaN, 1)])
      // Ratios between windows of the same round (one setup's nodes after the other's), medians over rounds.
      const paired = (a: (s: ClusterSample) => boolean, b: (s: ClusterSample) => boolean): number => median(all.filter(a).flatMap(x => {
        const y = all.find(s => b(s) && s.round === x.round && s.redis === x.redis)
        return y === undefined ? [] : [x.msgsPerSec / y.msgsPerSec]
      }))
      const lines: string[] = []
      for (const kind of [...new Set(all.map(s => s.redis))]) {
        for (const build of [...new Set(all.map(s => s.build))]) {
          const is = (history: string, where: string) => (s: ClusterSample): boolean => s.redis === kind && s.build === build && s.history === history && s.path === where
          const on = (where: string): number => paired(is('on', where), is('off', where))
          const far = (history: string): number => paired(is(history, 'cross-node'), is(history, 'local'))
          const name = `${redisLabel(kind)}${build}`
          lines.push(`- ${name}: history on / off ${fixed(on('local'))}x local, ${fixed(on('cross-node'))}x cross-node; cross-node / local ${fixed(far('on'))}x with history, ${fixed(far('off'))}x without`)
          if (build === '') {
            const detail = (history: string, where: string): string => `${int(m.get(key({ redis: kind, history, build, path: where }))?.msgsPerSec ?? NaN)}`
            if (Number.isFinite(on('local'))) targets.push({ what: `uid-to-uid with history vs without, local, ${name}`, value: on('local'), goal: 0.8, atLeast: true, detail: `${detail('on', 'local')} vs ${detail('off', 'local')} msg/s` })
            if (Number.isFinite(far('on'))) targets.push({ what: `uid-to-uid cross-node vs local, history on, ${name}`, value: far('on'), goal: 0.9, atLeast: true, detail: `${detail('on', 'cross-node')} vs ${detail('on', 'local')} msg/s` })
          }
        }
      }
      parts.push(`## 4. Cluster (two nodes on Redis)

Two gate nodes (the example app) and a private Redis on the same machine: one
\`redis-server\` on its own free port${all.some(s => s.redis === 'cluster') ? ', and a Redis Cluster of three masters and three replicas' : ''};
${String(cluster.params.clients)} clients on each node. Push: single-uid
\`POST /gate/push\` on node A, one at a time, to a client on A (local) or on B
(cross-node: A publishes to B over Redis), until the client has it.
uid-to-uid: ${Number(cluster.params.clients) / 2} clients on A each keep one \`C2S_Message { to_uid }\` in flight to a
client on A (local) or on B (cross-node). Two node pairs run at once, one with history on
(the example's \`S2C_Message\` kept per uid), one with it off (\`GATE_HISTORY_MAX_COUNT=0\`);
their ${String(cluster.params.durationMs)} ms windows alternate. CPU per message: both gate nodes, and Redis (\`INFO cpu\`, every master).

${measured(cluster)}

${table(['Redis', 'history', 'path', 'push p50 ms', 'push p99 ms', 'uid-to-uid msg/s', 'msg p50 ms', 'msg p99 ms', 'gates µs/msg', 'Redis µs/msg'], rows)}

Ratios of windows of the same round, medians over rounds:

${lines.join('\n')}`)
    }
  }

  if (soak !== undefined && soak.skipped === undefined) {
    const samples = soak.data.samples as SoakSample[]
    const p = soak.params
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)
    const rows = samples.map(x => [int(x.cycles), x.cycles === 0 ? '' : int(x.cyclesPerSec), mib(x.rss), mib(x.heapUsed), mib(x.external), int(x.connections), int(x.failed)])
    // Growth is read from the first sample after a batch (warm), not from the empty server.
    const first = samples[1] ?? samples[0]
    const last = samples[samples.length - 1]
    const cycles = last.cycles - first.cycles
    const growth = cycles > 0
      ? `From ${int(first.cycles)} to ${int(last.cycles)} cycles the server's RSS went ${mib(first.rss)} → ${mib(last.rss)} MiB and its heap ${mib(first.heapUsed)} → ${mib(last.heapUsed)} MiB (${((last.heapUsed - first.heapUsed) / cycles).toFixed(1)} bytes of heap per cycle).`
      : ''
    const short = Number(p.cycles) < 100_000 ? ` _A short run (${int(Number(p.cycles))} cycles), not the full soak of 100,000._` : ''
    parts.push(`## 5. Soak: connect, login, disconnect

${int(Number(p.cycles))} cycles of connect + \`C2S_UserLogin\` (answered \`ret: 1\`) + disconnect, WebSocket and
TCP alternating, ${String(p.concurrency)} cycles in flight, from ${String(p.addresses)} loopback source addresses, each cycle a
new uid. The server is the example app's handlers on a gate with the per-address and rate limits
off (bench/servers/gate-soak.ts). Every ${int(Number(p.sampleEvery))} cycles the load pauses until the server has no
connection left, then the server's RSS and V8 heap are read after a full GC.${short}

${measured(soak, 'one run')}

${table(['cycles', 'cycles/s', 'RSS MiB', 'heap MiB', 'external MiB', 'open connections', 'failed'], rows)}

${growth}${(soak.data.errors as string[]).length > 0 ? ` Failed cycles: ${(soak.data.errors as string[]).join('; ')}.` : ''}`)
  }

  if (mqtt !== undefined && mqtt.skipped === undefined) {
    const { all, get, conns } = echoMedians(mqtt)
    const ids = ['gate-mqtt', 'aedes', 'mosquitto']
    const rows: string[][] = []
    for (const n of conns) {
      const gate = get('gate-mqtt', n)
      for (const id of ids) {
        const s = get(id, n)
        if (s === undefined) continue
        const vs = (base: string): string => id === base || get(base, n) === undefined ? '' : `${pairedRatio(all, id, base, n).toFixed(2)}x`
        rows.push([int(n), label(id), int(s.msgsPerSec), fixed(s.p50), fixed(s.p99), fixed(s.serverUsPerMsg, 1), vs('aedes'), vs('mosquitto')])
      }
      const aedes = get('aedes', n)
      if (gate !== undefined && aedes !== undefined) {
        targets.push({ what: `MQTT echo vs aedes, ${int(n)} connections`, value: pairedRatio(all, 'gate-mqtt', 'aedes', n), goal: 1.2, atLeast: true, detail: `${int(gate.msgsPerSec)} vs ${int(aedes.msgsPerSec)} msg/s; server CPU ${fixed(gate.serverUsPerMsg, 1)} vs ${fixed(aedes.serverUsPerMsg, 1)} µs/msg` })
      }
    }
    panels.push({
      title: 'MQTT echo throughput (higher is better)',
      unit: 'msg/s',
      groups: conns.map(n => ({ label: `MQTT ${int(n)}`, bars: ids.map(id => ({ series: label(id), value: get(id, n)?.msgsPerSec ?? NaN })) }))
    })
    const missing = ids.filter(id => conns.every(n => get(id, n) === undefined))
    parts.push(`## 6. MQTT echo: beside aedes and mosquitto

The echo of section 1 over MQTT 3.1.1 on TCP. Each connection logs in at
CONNECT (its uid as client id and user name, a login JWT as password) and keeps
one QoS 0 \`PUBLISH\` in flight. fastify-gate answers \`C2S_UserHeartBeat\`
with its handler (the example app, the same work as section 1). aedes (npm, the
Node broker, in-memory persistence) and mosquitto (Debian, in C, no
persistence, no log) have no handlers: each connection subscribes to a topic
of its own and publishes its heartbeat there, so the broker's delivery back is
the answer. One message in and one out per round trip on all three. The load
is a lean client (packets generated once by mqtt-packet) on CPU 1; servers on
CPU 0; windows alternate as in section 1. mosquitto's CPU is its run time from
/proc (schedstat); the Node servers' is \`process.cpuUsage()\`.${missing.length > 0 ? ` **Left out on this machine: ${missing.map(label).join(', ')}.**` : ''}

${measured(mqtt, `${String(mqtt.params.rounds)} alternating windows per server`)}

${table(['connections', 'server', 'msg/s', 'p50 ms', 'p99 ms', 'server CPU µs/msg', 'vs aedes', 'vs mosquitto'], rows)}`)
  }

  const targetRows = targets.map(t => [t.what, `**${t.value.toFixed(2)}x**`, `${t.atLeast ? '≥' : '≤'} ${t.goal}x`, (t.atLeast ? t.value >= t.goal : t.value <= t.goal) ? 'yes' : 'no', t.detail])
  const notesFile = new URL('bench/notes.md', root)
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : ''
  const md = `# Benchmarks

Written by \`npm run bench\` (see [How to run](#how-to-run)); do not edit by hand.

**Machine:** ${latest === undefined ? 'no results yet' : describe(latest.machine)}.
**Everything runs on 127.0.0.1, and the servers and the load generators share these
${latest?.machine.cores ?? '?'} cores** (servers pinned to CPU 0, load generators to CPU 1, where there are
two): absolute figures are low and noisy, and the machine runs other work too. The
point is the ratios, measured in alternating windows or rounds (gate, baseline,
gate, baseline, ...) on the same machine in the same run.

![throughput and memory beside the baselines](${CHART})

## Targets

${table(['target', 'measured', 'goal', 'met', 'detail'], targetRows)}

${parts.join('\n\n')}

${notes}

## How to run

\`\`\`sh
npm run bench           # every scenario, then BENCHMARKS.md and ${CHART} (about 10 minutes)
npm run bench:echo      # or one scenario: bench:echo, bench:idle, bench:fanout, bench:cluster, bench:soak, bench:mqtt
\`\`\`

The runner compiles the project with \`tsc\` into \`.bench-tmp/build\` and runs each
server and load generator as its own process (\`node --expose-gc\`), talking to
them over IPC. Knobs (environment): \`BENCH_ECHO_WINDOWS\` (per server, 10),
\`BENCH_DURATION_MS\` (echo window, 1000), \`BENCH_WARMUP_MS\` (300), \`BENCH_ECHO_CONNS\` (100,1000),
\`BENCH_IDLE_ROUNDS\` (3),
\`BENCH_IDLE_CONNS\` (10000), \`BENCH_IDLE_MAX\` (50000; 0 skips the probe),
\`BENCH_FANOUT_CONNS\` (10000), \`BENCH_FANOUT_ROUNDS\` (2), \`BENCH_FANOUT_REPS\` (5),
\`BENCH_CLUSTER_ROUNDS\` (8), \`BENCH_CLUSTER_CLIENTS\` (100), \`BENCH_CLUSTER_DURATION_MS\` (1500), \`BENCH_CLUSTER_PUSHES\` (200),
\`BENCH_CLUSTER_REDIS\` (\`single\`; \`single,cluster\` adds a Redis Cluster), \`BENCH_CLUSTER_HISTORY\` (\`on,off\`),
\`BENCH_SOAK_CYCLES\` (100000), \`BENCH_SOAK_SAMPLE\` (5000), \`BENCH_SOAK_CONCURRENCY\` (50), \`BENCH_SOAK_ADDRESSES\` (4),
\`BENCH_ONLY=gate-ws,bare-ws\` (some contenders only; the MQTT ones are \`gate-mqtt\`, \`aedes\`, \`mosquitto\`),
\`BENCH_MOSQUITTO\` (the mosquitto program, \`/usr/sbin/mosquitto\`; left out, loudly, when missing),
\`BENCH_CPU_PROF=1\` (CPU profile of each measured window into \`.bench-tmp/prof\`;
summarise with \`npx tsx bench/tools/cpuprofile-top.ts <file>\`),
\`BENCH_HEAP_SNAPSHOT=1\` (heap snapshots of the idle servers into \`.bench-tmp/heap\`;
\`npx tsx bench/tools/heap-top.ts <file>\`), \`BENCH_TSX=1\` (run the sources through tsx, no build),
\`BENCH_PIN=0\` (no CPU pinning), \`BENCH_NODE_FLAGS\` (extra flags for the servers),
\`BENCH_BEFORE=<another checkout>\` (adds that tree's gate as \`gate-ws@before\`, ... for
before/after comparisons; such runs, and \`BENCH_ONLY\` runs, are printed, not saved).
\`node .bench-tmp/build/bench/tools/hotpath.js\` times the gate's per-message JavaScript
without sockets, beside the baseline's; \`node .bench-tmp/build/bench/tools/pipeline-cost.js [<checkout>...]\`
does so through the whole pipeline in CPU time, for several checkouts in one run.
`
  writeFileSync(new URL('BENCHMARKS.md', root), md)
  writeFileSync(new URL(CHART, root), barChart(panels, latest === undefined ? '' : `${latest.machine.date}, ${latest.machine.cores} cores (servers on one, load generators on the other), 127.0.0.1, Node ${latest.machine.node}`))
  return { file: fileURLToPath(new URL('BENCHMARKS.md', root)), chart: fileURLToPath(new URL(CHART, root)) }
}
