/**
 * docs/cluster.md's recipes, run as written: the shell commands of "Two nodes
 * and one Redis on one machine" and "Workers on one machine", with only the
 * fixed ports (Redis 6379, the gateways' 30x0-30x2) replaced by free ones, and
 * "Redis Cluster"'s six servers (7000-7005, on free ports and a private directory);
 * the answers compared with the ones the page shows. A recipe that no longer
 * works breaks this test.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '../helper.js'
import { noRedis } from '../history/app.js'
import { freePort } from '../ports.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, WsClient } from '../clients.js'
import { ROOT } from './gateway-process.js'
import { noRedisCluster } from '../redis-cluster-helper.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/example/recipes.test.ts: the cluster recipes need Redis)\n\n`)

const page = readFileSync(new URL('../../docs/cluster.md', import.meta.url), 'utf8')

/** Every ```sh block of the section under `heading` (up to the next heading), continued lines joined. */
function shBlock (heading: string): string[] {
  const at = page.indexOf(heading)
  assert.ok(at >= 0, `docs/cluster.md has "${heading}"`)
  const rest = page.slice(at + heading.length)
  const end = rest.search(/\n#{2,3} /)
  const section = end < 0 ? rest : rest.slice(0, end)
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1])
  assert.ok(blocks.length > 0, `a sh block under "${heading}"`)
  return blocks.join('').replace(/\\\n\s*/g, '').split('\n').filter(l => l.trim() !== '')
}

/** Replaces the recipe's fixed ports with free ones, the same free one for each. */
async function portMap (): Promise<(line: string) => string> {
  const map = new Map<string, string>()
  for (const fixed of ['6379', '3000', '3001', '3002', '3010', '3011', '3012']) map.set(fixed, String(await freePort()))
  return line => line.replace(/\b(6379|3000|3001|3002|3010|3011|3012)\b/g, p => map.get(p)!)
}

/** The environment of a fresh terminal: nothing of the gateway's own variables. */
function shellEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GATE_|REDIS_|PORT$|HOST$|LOG_LEVEL$)/.test(k)))
}

interface Running { proc: ChildProcess, output: () => string }

/**
 * Runs a long-lived command line of the recipe (`NAME=value ... command args`)
 * as a shell would, in its own process group (a terminal's foreground job),
 * killed after the test. (Not under `sh -c`: a Ctrl-C would kill that shell,
 * which an interactive one ignores.)
 */
function runInTerminal (t: TestContext, line: string): Running {
  const words = (line.replace(/\s+#.*$/, '').match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map(w => /^['"]/.test(w) ? w.slice(1, -1) : w)
  const env = shellEnv()
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=')
    env[name] = value.join('=')
  }
  const [command, ...args] = words
  if (command === 'npm') {
    // Each gateway on one machine needs ports of its own; the defaults (3000-3002) would clash (and are not the test's to take).
    for (const name of ['PORT', 'GATE_TCP_PORT', 'GATE_MQTT_PORT']) assert.ok(env[name] !== undefined, `the recipe's "${line}" sets ${name}`)
  }
  const proc = spawn(command, args, { cwd: ROOT, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  t.after(() => { try { process.kill(-proc.pid!, 'SIGKILL') } catch {} })
  return { proc, output: () => out }
}

/** A command line and the answer the page shows under it (`# {...}`), if any. */
function steps (lines: string[]): Array<{ command: string, expected?: string }> {
  const out: Array<{ command: string, expected?: string }> = []
  for (const line of lines) {
    const comment = /^#\s*(\{.*)$/.exec(line)
    if (comment !== null && out.length > 0) out[out.length - 1].expected = comment[1]
    else if (!line.startsWith('#')) out.push({ command: line })
  }
  return out
}

/** The answer matches the page's: as JSON, every field shown; with `...`, the text before it. */
function assertAnswer (actual: string, expected: string): void {
  if (expected.includes('...')) {
    assert.ok(actual.startsWith(expected.slice(0, expected.indexOf('...'))), `${actual}\n  should start like\n${expected}`)
    return
  }
  const want = JSON.parse(expected) as Record<string, unknown>
  const got = JSON.parse(actual) as Record<string, unknown>
  for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${k} in ${actual}`)
}

const curl = (command: string): string => execFileSync('sh', ['-c', command], { cwd: ROOT, env: shellEnv(), encoding: 'utf8' })
class PortTaken extends Error {}
const ready = async (r: Running, what: RegExp): Promise<void> => {
  await until(() => what.test(r.output()) || r.proc.exitCode !== null, 90000, `${what.source}`)
  if (!what.test(r.output()) && /EADDRINUSE|Address already in use/.test(r.output())) throw new PortTaken(r.output())
  assert.match(r.output(), what, `the command failed:\n${r.output()}`)
}

/** Runs `body` again on other free ports when another process took one of them first. */
async function withFreePorts (body: (fix: (line: string) => string) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await body(await portMap())
      return
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 3) throw err
    }
  }
}
const sign = tokenSigner('dev-secret')

test('docs/cluster.md, two nodes and one Redis on one machine: the commands as written', { skip: noRedis, timeout: 400000 }, async (t) => await withFreePorts(async (fix) => {
  const lines = steps(shBlock('## Two nodes and one Redis on one machine').map(fix))
  const [redis, nodeA, nodeB, ...queries] = lines
  assert.match(redis.command, /^redis-server /)
  const r = runInTerminal(t, redis.command)
  await ready(r, /Ready to accept connections/)
  const a = runInTerminal(t, nodeA.command)
  await ready(a, /chat gateway ready/)
  const b = runInTerminal(t, nodeB.command)
  await ready(b, /chat gateway ready/)

  // alice on node a over WebSocket, bob on node b over TCP, as the page says.
  const portOf = (command: string, name: string): number => Number(new RegExp(`\\b${name}=(\\d+)`).exec(command)![1])
  const alice = await WsClient.connect(`ws://127.0.0.1:${portOf(nodeA.command, 'PORT')}/ws`)
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.nextOf('S2C_UserLogin')).body.ret, 1)
  const bob = await TcpClient.connect(portOf(nodeB.command, 'GATE_TCP_PORT'))
  bob.send('C2S_UserLogin', { token: sign('bob'), login_plat: 1 })
  assert.equal((await bob.nextOf('S2C_UserLogin')).body.ret, 1)
  bob.send('C2S_Message', { to_uid: 'alice', content: 'across nodes' })
  assert.equal((await alice.nextOf('S2C_Message')).body.content, 'across nodes')

  assert.equal(queries.length, 3)
  for (const q of queries) {
    assert.match(q.command, /^curl /)
    assertAnswer(curl(q.command), q.expected!)
  }

  // "Stop node b with Ctrl-C": it drains (bob gets 1012), and node a then counts one node.
  process.kill(-b.proc.pid!, 'SIGINT')
  assert.deepEqual((await bob.nextOf('S2C_Close', 15000)).body, { code: 1012, reason: 'service restart' })
  const [code] = await once(b.proc, 'exit')
  assert.equal(code, 0, b.output())
  assert.equal(JSON.parse(curl(queries[0].command.replace(`:${portOf(nodeB.command, 'PORT')}/`, `:${portOf(nodeA.command, 'PORT')}/`))).nodes, 1)
  await alice.close()
}))

test('docs/cluster.md, workers on one machine: the commands as written', { skip: noRedis, timeout: 400000 }, async (t) => await withFreePorts(async (fix) => {
  const lines = steps(shBlock('### Workers on one machine').map(fix))
  const [redis, gateway, ...queries] = lines
  const r = runInTerminal(t, redis.command)
  await ready(r, /Ready to accept connections/)
  const g = runInTerminal(t, gateway.command)
  await ready(g, /all workers ready/)
  assert.match(g.output(), /"nodeIds":\["a-1","a-2"\]/)
  assert.equal(queries.length, 1)
  assertAnswer(curl(queries[0].command), queries[0].expected!)

  // Ctrl-C: every worker drains, the whole tree exits 0.
  process.kill(-g.proc.pid!, 'SIGINT')
  const [code] = await once(g.proc, 'exit')
  assert.equal(code, 0, g.output())
  assert.doesNotMatch(g.output(), /second signal|killing/)
}))

/** Whether nothing listens on 127.0.0.1:`port` (bound, then released). */
async function isFree (port: number): Promise<boolean> {
  const server = net.createServer()
  const ok = await new Promise<boolean>(resolve => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (ok) await new Promise(resolve => server.close(resolve))
  return ok
}

/**
 * The Redis Cluster recipe's fixed ports (7000-7005, and each one's bus port + 10000,
 * which the recipe computes) moved to six free ones whose + 10000 is free too, and its
 * /tmp/rc directory to a private one; then the gateways' ports as portMap does.
 */
async function clusterMap (dir: string): Promise<(line: string) => string> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 20000)
    const ports = Array.from({ length: 6 }, (_, i) => base + i)
    if (!(await Promise.all(ports.flatMap(p => [isFree(p), isFree(p + 10000)]))).every(Boolean)) continue
    const rest = await portMap()
    return line => rest(line.replace(/\b700([0-5])\b/g, (_, i: string) => String(base + Number(i))).replaceAll('/tmp/rc', dir))
  }
  throw new Error('no six free ports (and their + 10000) for the Redis Cluster recipe')
}

test('docs/cluster.md, a Redis Cluster on one machine: the commands as written, then the curl commands of two nodes and one Redis', { skip: noRedisCluster, timeout: 400000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-rc-recipe-'))
  const fix = await clusterMap(dir)
  const stop = /`(for p in 7000[^`]*shutdown nosave; done)`/.exec(page)
  assert.ok(stop, 'the page says how to stop the Redis Cluster')
  t.after(() => {
    try { execFileSync('sh', ['-c', fix(stop[1])], { stdio: 'ignore' }) } catch {}
    rmSync(dir, { recursive: true, force: true })
  })

  const lines = shBlock('### A Redis Cluster on one machine').map(fix)
  const check = lines.findIndex(l => /cluster info \| grep cluster_state/.test(l))
  assert.ok(check > 0, 'the recipe checks cluster_state')
  // The servers and `redis-cli --cluster create`, as one shell script (the for loop spans lines).
  execFileSync('sh', ['-c', lines.slice(0, check).join('\n')], { env: shellEnv(), stdio: 'pipe', timeout: 120000 })
  const [checkLine, expected] = lines[check].split(/\s+#\s*/)
  assert.equal(expected, 'cluster_state:ok')
  // The cluster reports ok once its nodes agree, a moment after create returns.
  await until(() => { try { return curl(checkLine).trim() === expected } catch { return false } }, 30000, 'cluster_state:ok')

  const [nodeA, nodeB] = steps(lines.slice(check + 1)).map(s => s.command)
  assert.match(nodeA, /^REDIS_CLUSTER_NODES=\S+ GATE_NODE_ID=a /)
  assert.match(nodeB, /^REDIS_CLUSTER_NODES=\S+ GATE_NODE_ID=b /)
  const a = runInTerminal(t, nodeA)
  await ready(a, /chat gateway ready/)
  const b = runInTerminal(t, nodeB)
  await ready(b, /chat gateway ready/)

  const portOf = (command: string, name: string): number => Number(new RegExp(`\\b${name}=(\\d+)`).exec(command)![1])
  const alice = await WsClient.connect(`ws://127.0.0.1:${portOf(nodeA, 'PORT')}/ws`)
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.nextOf('S2C_UserLogin')).body.ret, 1)
  const bob = await TcpClient.connect(portOf(nodeB, 'GATE_TCP_PORT'))
  bob.send('C2S_UserLogin', { token: sign('bob'), login_plat: 1 })
  assert.equal((await bob.nextOf('S2C_UserLogin')).body.ret, 1)
  bob.send('C2S_Message', { to_uid: 'alice', content: 'across nodes on a Redis Cluster' })
  assert.equal((await alice.nextOf('S2C_Message')).body.content, 'across nodes on a Redis Cluster')

  // "Then the curl commands of the next section work unchanged."
  const queries = steps(shBlock('## Two nodes and one Redis on one machine').map(fix)).filter(s => s.command.startsWith('curl '))
  assert.equal(queries.length, 3)
  for (const q of queries) assertAnswer(curl(q.command), q.expected!)

  process.kill(-b.proc.pid!, 'SIGINT')
  assert.deepEqual((await bob.nextOf('S2C_Close', 15000)).body, { code: 1012, reason: 'service restart' })
  const [code] = await once(b.proc, 'exit')
  assert.equal(code, 0, b.output())
  await alice.close()
})
