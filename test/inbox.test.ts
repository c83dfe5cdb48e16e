import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, test } from 'node:test'
import { Inbox } from '../src/inbox.js'
import type { MessageDef } from '../src/messages.js'
import {
  captureLogs, connectAgent, deferred, encodingOptions, encodings, registerTestMessages, startCore, testWire,
  transports, until, type Client
} from './helper.js'

const def = { name: 'M' } as MessageDef

/** After every promise reaction now pending has run (one turn of the event loop): what would follow has. */
const settled = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** An inbox whose handler is `exec`, recording errors and flow-control calls. */
function inbox (limit: number, exec: (body: unknown) => void | Promise<void>): { box: Inbox, errors: unknown[], flow: string[] } {
  const errors: unknown[] = []
  const flow: string[] = []
  const host = { exec: (_owner: unknown, _def: MessageDef, body: unknown) => exec(body), failed: (_owner: unknown, err: unknown) => { errors.push(err) } }
  const box = new Inbox(limit, host, undefined, {
    pause: () => flow.push('pause'),
    resume: () => flow.push('resume')
  })
  return { box, errors, flow }
}

describe('Inbox', () => {
  test('synchronous handlers run at once, in order', () => {
    const seen: unknown[] = []
    const { box } = inbox(4, body => { seen.push(body) })
    for (let i = 0; i < 10; i++) box.push(def, i)
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert.equal(box.size, 0)
  })

  test('an async handler holds the queue until it settles', async () => {
    const log: string[] = []
    const gates = [deferred(), deferred(), deferred()]
    const { box } = inbox(10, async (n) => {
      log.push(`start ${n as number}`)
      await gates[n as number].promise
      log.push(`end ${n as number}`)
    })
    for (let i = 0; i < 3; i++) box.push(def, i)
    assert.deepEqual(log, ['start 0'])
    assert.equal(box.size, 2)
    // Settling out of order changes nothing: 1 cannot start before 0 ends.
    gates[2].resolve()
    gates[1].resolve()
    await settled()
    assert.deepEqual(log, ['start 0'])
    gates[0].resolve()
    await until(() => log.length === 6)
    assert.deepEqual(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'])
  })

  test('a handler that throws or rejects is reported and the next one runs', async () => {
    const seen: unknown[] = []
    const { box, errors } = inbox(10, async (n) => {
      if (n === 'throw') throw new Error('sync-ish')
      if (n === 'reject') return await Promise.reject(new Error('async'))
      seen.push(n)
    })
    const { box: syncBox, errors: syncErrors } = inbox(10, (n) => { if (n === 'throw') throw new Error('sync'); seen.push(n) })
    syncBox.push(def, 'throw')
    syncBox.push(def, 'sync after')
    box.push(def, 'throw')
    box.push(def, 'reject')
    box.push(def, 'after')
    await until(() => seen.length === 2)
    assert.deepEqual(seen, ['sync after', 'after'])
    assert.equal(errors.length, 2)
    assert.equal(syncErrors.length, 1)
  })

  test('reading pauses when `limit` messages wait, and resumes once drained', async () => {
    const hold = deferred()
    const { box, flow } = inbox(3, async (n) => { if (n === 0) await hold.promise })
    box.push(def, 0) // running
    box.push(def, 1)
    box.push(def, 2)
    assert.deepEqual(flow, [])
    box.push(def, 3) // three waiting: the limit
    assert.deepEqual(flow, ['pause'])
    box.push(def, 4)
    assert.deepEqual(flow, ['pause'], 'paused once')
    hold.resolve()
    await until(() => flow.length === 2)
    assert.deepEqual(flow, ['pause', 'resume'])
    assert.equal(box.size, 0)
  })

  test('clear() drops the waiting messages', async () => {
    const hold = deferred()
    const seen: unknown[] = []
    const { box } = inbox(10, async (n) => { seen.push(n); if (n === 0) await hold.promise })
    box.push(def, 0)
    box.push(def, 1)
    box.clear()
    assert.equal(box.size, 0)
    hold.resolve()
    await settled()
    assert.deepEqual(seen, [0])
  })
})

for (const transport of transports) {
  for (const encoding of encodings) {
    describe(`handler queue over ${transport}, ${encoding}`, () => {
      test('one connection runs strictly in order; another connection is served meanwhile', async (t) => {
        const log: string[] = []
        const release = deferred()
        const s = await startCore(t, encodingOptions(encoding), (app) => {
          registerTestMessages(app)
          app.gate.handle<{ text: string, n: number }>('Echo', async (msg, agent) => {
            if (msg.text === 'A') {
              log.push(`start ${msg.n}`)
              if (msg.n === 0) await release.promise
              else await sleep(msg.n % 3) // uneven, so an unordered queue would show
              log.push(`end ${msg.n}`)
            }
            agent.send('Echo', msg)
          })
        })
        const a = (await connectAgent(s, transport, testWire(encoding))).client
        const b = (await connectAgent(s, transport, testWire(encoding))).client
        for (let n = 0; n < 10; n++) a.send('Echo', { text: 'A', n })
        await until(() => log.length === 1)
        b.send('Echo', { text: 'B', n: 1 })
        assert.deepEqual((await b.next()).body, { text: 'B', n: 1 }, 'B is answered while A waits')
        assert.deepEqual(log, ['start 0'], 'A\'s later messages wait for its first')
        release.resolve()
        for (let n = 0; n < 10; n++) assert.deepEqual((await a.next()).body, { text: 'A', n })
        assert.deepEqual(log, Array.from({ length: 10 }, (_, n) => [`start ${n}`, `end ${n}`]).flat())
      })

      test('a handler that throws or rejects is logged, counted, and the queue goes on', async (t) => {
        const logs = captureLogs('error')
        const unhandled: unknown[] = []
        const onUnhandled = (err: unknown): void => { unhandled.push(err) }
        process.on('unhandledRejection', onUnhandled)
        process.on('uncaughtException', onUnhandled)
        t.after(() => {
          process.off('unhandledRejection', onUnhandled)
          process.off('uncaughtException', onUnhandled)
        })
        const s = await startCore(t, encodingOptions(encoding), (app) => {
          registerTestMessages(app)
          app.gate.handle<{ text: string }>('Echo', async (msg, agent) => {
            if (msg.text === 'reject') {
              await sleep(1)
              throw new Error('rejected on purpose')
            }
            agent.send('Echo', msg)
          })
          app.gate.handle<{ text: string }>('Secret', () => { throw new Error('thrown on purpose') })
          app.gate.handle<{ uid: string }>('Login', (msg, agent) => agent.bind(msg.uid))
        }, { logger: logs.logger })
        const { client, agent } = await connectAgent(s, transport, testWire(encoding))
        client.send('Echo', { text: 'reject' })
        client.send('Login', { uid: 'u1' })
        client.send('Secret', { text: 'throw' })
        client.send('Echo', { text: 'after' })
        assert.equal((await client.next()).body.text, 'after')
        assert.equal(s.app.gate.counters.handlerErrors, 2)
        const errors = logs.lines.filter(l => l.level === 50 && l.agent === agent.id)
        assert.deepEqual(errors.map(l => l.msgName).sort(), ['Echo', 'Secret'])
        assert.ok(errors.every(l => l.err !== undefined), 'the error is logged')
        assert.equal(agent.isOpen, true)
        assert.deepEqual(unhandled, [])
      })
    })
  }

  describe(`inbound backpressure over ${transport}`, () => {
    test('reading pauses while the handler queue is full, then every message is handled in order', async (t) => {
      const pendingReadNum = 2
      const release = deferred()
      const handled: number[] = []
      const s = await startCore(t, { pendingReadNum, msgRate: 0, msgRatePerIp: 0 }, (app) => {
        registerTestMessages(app)
        app.gate.handle<{ text: string, n: number }>('Echo', async (msg, agent) => {
          if (msg.text !== 'load') { agent.send('Echo', msg); return }
          if (msg.n === 0) await release.promise
          handled.push(msg.n)
        })
      })
      const { client, agent } = await connectAgent(s, transport)
      const other = await s.tcp()
      const pad = 'p'.repeat(4000)
      const total = 2000 // about 8 MB: more than the kernel buffers hold
      for (let n = 0; n < total; n++) client.send('Echo', { text: 'load', n, pad } as { text: string, n: number })

      await until(() => isPaused(agent), 10000, 'the socket to be paused')
      const received = agent.msgsIn
      // Give the server many turns of its event loop in which it would read more if it could.
      for (let i = 0; i < 20; i++) {
        other.send('Echo', { text: `ping ${i}` })
        await other.next()
      }
      assert.equal(agent.msgsIn, received, 'nothing more is read while paused')
      assert.ok(received < total / 4, `reading stopped early (${received} of ${total})`)
      assert.deepEqual(handled, [])

      release.resolve()
      await until(() => handled.length === total, 60_000, 'every message handled')
      assert.deepEqual(handled, Array.from({ length: total }, (_, n) => n))
      assert.equal(isPaused(agent), false)
      await assertAlive(client)
    })
  })
}

/** Whether the server side of a connection has stopped reading (reaches into the transport adapters). */
function isPaused (agent: { link: unknown }): boolean {
  // The agent holds the transport's link, which holds the socket or the ws WebSocket.
  const c = agent.link as { socket?: { isPaused: () => boolean }, ws?: { isPaused: boolean } }
  if (c.ws !== undefined) return c.ws.isPaused
  return c.socket!.isPaused()
}

async function assertAlive (client: Client): Promise<void> {
  client.send('Echo', { text: 'alive' })
  assert.equal((await client.next()).body.text, 'alive')
}
