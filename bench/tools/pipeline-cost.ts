/**
 * The gate's per-message JavaScript through the whole pipeline, as the echo
 * bench's server runs it (the example app with bench/servers/gate.ts's
 * settings, metrics included), without sockets: a heartbeat enters where a
 * socket's chunk does (the link's `data` event: leaf's session, the peer,
 * dispatch, the inbox, the handler, encode, the agent's write) and leaves
 * framed into a link that drops it. Timed in CPU time (`process.cpuUsage`),
 * so that other processes on the machine do not count; the minimum and the
 * median of the rounds are printed. Each checkout runs in a process of its
 * own, alternating, so before and after can be compared in one run:
 *
 *     node .bench-tmp/build/bench/tools/pipeline-cost.js [--msgs 100000] [--rounds 12] [--repeat 2] [<checkout>...]
 *
 * Each checkout must have been compiled into its .bench-tmp/build (any bench
 * run does it; `BENCH_BEFORE` compiles that one too); with none given, this one.
 * The bare baseline's JavaScript (bench/servers/bare-chat.ts behind
 * bare-net's framing) is printed beside them.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { benchGateEnv } from '../servers/gate-env.js'

interface Args { msgs: number, rounds: number, repeat: number, roots: string[] }

function parseArgs (argv: string[]): Args {
  const args: Args = { msgs: 100_000, rounds: 12, repeat: 2, roots: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--msgs') args.msgs = Number(argv[++i])
    else if (a === '--rounds') args.rounds = Number(argv[++i])
    else if (a === '--repeat') args.repeat = Number(argv[++i])
    else args.roots.push(path.resolve(a))
  }
  return args
}

/** This checkout: the compiled file lives in <root>/.bench-tmp/build/bench/tools. */
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')

/** CPU ns per call of `fn`, for each round after two warm-up rounds. */
function timeRounds (fn: () => void, msgs: number, rounds: number): number[] {
  const out: number[] = []
  for (let r = 0; r < rounds + 2; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < msgs; i++) fn()
    const d = process.cpuUsage(start)
    if (r >= 2) out.push((d.user + d.system) * 1000 / msgs)
  }
  return out.sort((a, b) => a - b)
}

const payload = Buffer.from(JSON.stringify({ C2S_UserHeartBeat: { ptime: 1 } }))

/** One checkout, one transport, in this process: prints `min median` (ns). */
async function measureGate (root: string, transport: 'ws' | 'tcp', msgs: number, rounds: number): Promise<string> {
  const build = (file: string): string => pathToFileURL(path.join(root, '.bench-tmp/build', file)).href
  const { buildChatApp } = await import(build('examples/chat/app.js'))
  const { loadConfig } = await import(build('examples/chat/config.js'))
  const { connect } = await import(build('src/pipeline/connect.js'))
  const { leafProtocol } = await import(build('src/protocol/leaf.js'))
  const { LEAF_STREAM, LEAF_WS_FRAME } = await import(build('src/codec/outbound.js'))
  const config = loadConfig({ ...benchGateEnv(process.env, 'pipeline-cost-secret-pipeline-cost-secret', 'pipeline-cost'), LOG_LEVEL: 'warn' })

  const app = await buildChatApp(config, { logger: false })
  await app.ready()
  const framing = transport === 'ws' ? LEAF_WS_FRAME : LEAF_STREAM
  let bytes = 0
  let events: { data: (chunk: Buffer) => void } | undefined
  const link = {
    transport,
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    write: (msg: { frame: (f: unknown) => Buffer }) => { bytes += msg.frame(framing).length; return true },
    close () {},
    destroy () {},
    pause () {},
    resume () {},
    probe: () => false,
    listen (e: { data: (chunk: Buffer) => void }) { events = e },
    refuse () {}
  }
  connect(app.gate, link, leafProtocol)
  if (events === undefined) throw new Error(`${root}: the connection was refused`)
  const chunk = transport === 'ws' ? payload : Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload])
  const data = events.data.bind(events)
  const times = timeRounds(() => { data(chunk) }, msgs, rounds)
  await app.close()
  if (bytes === 0) throw new Error(`${root}: nothing was answered`)
  return `${times[0].toFixed(0)} ${times[times.length >> 1].toFixed(0)}`
}

/** bare-net's reading and framing around the baselines' chat logic. */
async function measureBare (msgs: number, rounds: number): Promise<string> {
  const { BareChat } = await import('../servers/bare-chat.js')
  const chat = new BareChat()
  let bytes = 0
  const conn = {
    send (p: Buffer) {
      const out = Buffer.allocUnsafe(2 + p.length)
      out.writeUInt16BE(p.length, 0)
      p.copy(out, 2)
      bytes += out.length
    },
    close () {}
  }
  const chunk = Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload])
  const times = timeRounds(() => {
    let off = 0
    while (chunk.length - off >= 2) {
      const len = chunk.readUInt16BE(off)
      chat.receive(conn, chunk.subarray(off + 2, off + 2 + len))
      off += 2 + len
    }
  }, msgs, rounds)
  if (bytes === 0) throw new Error('bare: nothing was answered')
  return `${times[0].toFixed(0)} ${times[times.length >> 1].toFixed(0)}`
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === '--child') {
  const [root, transport, msgs, rounds] = rest
  const out = root === 'bare'
    ? await measureBare(Number(msgs), Number(rounds))
    : await measureGate(root, transport as 'ws' | 'tcp', Number(msgs), Number(rounds))
  process.stdout.write(out + '\n')
  process.exit(0)
}

const args = parseArgs(process.argv.slice(2))
const roots = args.roots.length > 0 ? args.roots : [here]
const cases: Array<{ label: string, root: string, transport: string }> = []
for (const transport of ['ws', 'tcp']) for (const root of roots) cases.push({ label: `${path.basename(root)} ${transport}`, root, transport })
cases.push({ label: 'bare (net framing)', root: 'bare', transport: 'tcp' })
const results = new Map<string, number[][]>()
for (let r = 0; r < args.repeat; r++) {
  for (const c of cases) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', c.root, c.transport, String(args.msgs), String(args.rounds)], { encoding: 'utf8' })
    const [min, median] = out.trim().split('\n').pop()!.split(' ').map(Number)
    results.set(c.label, [...(results.get(c.label) ?? []), [min, median]])
  }
}
process.stdout.write(`CPU ns per heartbeat (min / median of ${args.rounds} rounds of ${args.msgs}; ${args.repeat} alternating runs each):\n`)
for (const [label, runs] of results) process.stdout.write(`  ${label.padEnd(28)} ${runs.map(([min, median]) => `${min} / ${median}`).join(',  ')}\n`)
