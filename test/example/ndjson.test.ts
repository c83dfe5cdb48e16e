import assert from 'node:assert/strict'
import net from 'node:net'
import { test, type TestContext } from 'node:test'
import type { CloseReason } from '../../src/close-codes.js'
import { buildNdjsonApp } from '../../examples/ndjson/server.js'
import { until } from '../helper.js'

async function start (t: TestContext): Promise<{ app: Awaited<ReturnType<typeof buildNdjsonApp>>, closes: CloseReason[], connect: () => Promise<LineClient> }> {
  process.env.LOG_LEVEL ??= 'silent'
  const app = await buildNdjsonApp(0)
  const closes: CloseReason[] = []
  app.gate.onDisconnect((_agent, reason) => { closes.push(reason) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return { app, closes, connect: async () => await LineClient.connect(app.gateAddress('ndjson')!.port) }
}

/** A client that writes raw bytes and reads newline-terminated lines. */
class LineClient {
  readonly socket: net.Socket
  readonly closed: Promise<void>
  private buffer = ''
  private readonly lines: string[] = []
  private waiting: ((line: string) => void) | undefined

  private constructor (socket: net.Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => {
      this.buffer += text
      let i
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i)
        this.buffer = this.buffer.slice(i + 1)
        const w = this.waiting
        this.waiting = undefined
        if (w !== undefined) w(line)
        else this.lines.push(line)
      }
    })
    socket.on('error', () => {})
    this.closed = new Promise(resolve => socket.once('close', () => resolve()))
  }

  static async connect (port: number): Promise<LineClient> {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new LineClient(socket)
  }

  async next (): Promise<unknown> {
    const line = this.lines.shift() ?? await new Promise<string>(resolve => { this.waiting = resolve })
    return JSON.parse(line)
  }
}

test('ndjson: lines coalesced in one write, split across writes, with \\r\\n and blank lines, each answered on a line', async (t) => {
  const { app, connect } = await start(t)
  const c = await connect()
  c.socket.write('{"Echo":{"text":"one"}}\n\n{"Echo":{"text":"two"}}\r\n{"Echo":')
  assert.deepEqual(await c.next(), { Echo: { text: 'one' } })
  assert.deepEqual(await c.next(), { Echo: { text: 'two' } })
  c.socket.write('{"text":"three"}}\n')
  assert.deepEqual(await c.next(), { Echo: { text: 'three' } })
  const [agent] = app.gate.local.all()
  assert.equal(agent!.protocol, 'ndjson')
  assert.deepEqual(app.gate.local.protocols, { ndjson: 1 })
  c.socket.end()
  await c.closed
})

test('ndjson: a line over maxMsgLen closes with 1009 before it ends; a bad envelope with 1002', async (t) => {
  const { closes, connect } = await start(t)
  const long = await connect()
  long.socket.write('{"Echo":{"text":"' + 'x'.repeat(5000))
  await long.closed
  const bad = await connect()
  bad.socket.write('{"Nope":{}}\n')
  await bad.closed
  await until(() => closes.length === 2)
  assert.deepEqual(closes.map(c => c.code), [1009, 1002])
})
