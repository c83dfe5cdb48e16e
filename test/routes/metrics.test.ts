import assert from 'node:assert/strict'
import { test } from 'node:test'
import { register as globalRegistry } from 'prom-client'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startGate, until, type Started } from '../helper.js'
import { metricsPlugin } from '../../plugins/gate.js'
import { TOKENS, call, login, ok } from './helper.js'

/** Scrapes `/gate/metrics`: sample (`name{labels}`) -> value. */
async function scrape (s: Started): Promise<Map<string, number>> {
  const res = await call(s, { url: '/gate/metrics' })
  assert.equal(res.statusCode, 200)
  assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
  const samples = new Map<string, number>()
  for (const line of res.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

async function startWithBoom (t: Parameters<typeof startGate>[0]): Promise<Started> {
  return await startGate(t, { admin: { tokens: [...TOKENS] } }, app => {
    registerTestMessages(app)
    app.gate.message('Boom', { needsLogin: false }, () => { throw new Error('handler failure on purpose') })
  })
}

test('GET /gate/metrics moves with the traffic', async (t) => {
  const s = await startWithBoom(t)
  const closes = recordCloses(s.app)
  const before = await scrape(s)
  for (const name of ['gate_received_messages_total', 'gate_sent_messages_total', 'gate_received_bytes_total', 'gate_sent_bytes_total', 'gate_handler_errors_total']) {
    assert.equal(before.get(name), 0, name)
  }
  assert.equal(before.get('gate_connections{transport="ws"}'), 0)
  assert.equal(before.get('gate_online_users'), 0)

  const ws = await login(s, 'ws', 'alice')
  const tcp = await login(s, 'tcp', 'bob')
  const anonymous = await connectAgent(s, 'tcp')
  ws.client.send('Echo', { text: 'one' })
  await ws.client.next()
  anonymous.client.send('Boom', {})
  await until(() => s.app.gate.counters.handlerErrors === 1, 5000, 'the failed handler')

  const during = await scrape(s)
  assert.equal(during.get('gate_connections{transport="ws"}'), 1)
  assert.equal(during.get('gate_connections{transport="tcp"}'), 2)
  assert.equal(during.get('gate_online_users'), 2)
  assert.equal(during.get('gate_received_messages_total'), 4, '2 logins, 1 echo, 1 boom')
  assert.equal(during.get('gate_sent_messages_total'), 3, '2 welcomes, 1 echo')
  assert.ok(during.get('gate_received_bytes_total')! > 0)
  assert.ok(during.get('gate_sent_bytes_total')! > 0)
  assert.equal(during.get('gate_handler_errors_total'), 1)
  assert.equal(during.get('gate_handler_duration_seconds_count{message="Echo",result="ok"}'), 1)
  assert.equal(during.get('gate_handler_duration_seconds_count{message="Login",result="ok"}'), 2)
  assert.equal(during.get('gate_handler_duration_seconds_count{message="Boom",result="error"}'), 1)
  assert.equal(during.get('gate_handler_duration_seconds_bucket{le="+Inf",message="Echo",result="ok"}'), 1)

  await ok(s, { url: '/gate/push', body: { uids: ['alice', 'bob'], name: 'Echo', body: { text: 'pushed' } } })
  await ok(s, { url: '/gate/kick', body: { uids: ['bob'] } })
  await closeOf(closes, tcp.agent)
  await ws.client.close()
  await closeOf(closes, ws.agent)

  const after = await scrape(s)
  assert.equal(after.get('gate_sent_messages_total'), 5, 'plus the two pushed')
  assert.ok(after.get('gate_sent_bytes_total')! > during.get('gate_sent_bytes_total')!)
  assert.equal(after.get('gate_closes_total{code="4001"}'), 1)
  assert.equal(after.get('gate_closes_total{code="1000"}'), 1)
  assert.equal(after.get('gate_connections{transport="ws"}'), 0)
  assert.equal(after.get('gate_connections{transport="tcp"}'), 1)
  assert.equal(after.get('gate_online_users'), 0)
  assert.equal((await scrape(s)).get('gate_sent_messages_total'), 5, 'a scrape does not count twice')
})

test('each app has its own registry: two gates in one process do not clash, nor touch the global one', async (t) => {
  const a = await startWithBoom(t)
  const b = await startWithBoom(t)
  await login(a, 'ws', 'alice')
  assert.equal((await scrape(a)).get('gate_online_users'), 1)
  assert.equal((await scrape(b)).get('gate_online_users'), 0)
  assert.equal(await globalRegistry.getSingleMetric('gate_online_users'), undefined)
})

test('metricsPlugin serves the same metrics wherever the app registers it; both observers see handlers', async (t) => {
  const s = await startGate(t, { admin: { tokens: [...TOKENS] } }, async app => {
    registerTestMessages(app)
    await app.register(metricsPlugin, { path: '/metrics' })
  })
  const ws = await login(s, 'ws', 'alice')
  ws.client.send('Echo', { text: 'one' })
  await ws.client.next()
  const open = await s.app.inject({ url: '/metrics' })
  assert.equal(open.statusCode, 200, 'served without a token where the app put it')
  assert.match(open.body, /^gate_handler_duration_seconds_count\{message="Echo",result="ok"\} 1$/m)
  assert.equal((await scrape(s)).get('gate_handler_duration_seconds_count{message="Echo",result="ok"}'), 1)
})

/** prom-client's default metrics that every platform has (resident memory is read from /proc on Linux). */
const PROCESS_SAMPLES = ['process_cpu_user_seconds_total', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info']

test('/gate/metrics carries the process metrics; two apps in one process share them without touching the global registry', async (t) => {
  const a = await startWithBoom(t)
  const b = await startWithBoom(t)
  const [sa, sb] = [await scrape(a), await scrape(b)]
  const names = (samples: Map<string, number>): Set<string> => new Set([...samples.keys()].map(k => k.replace(/\{.*$/, '')))
  for (const name of PROCESS_SAMPLES) {
    assert.ok(names(sa).has(name), `${name} on the first app`)
    assert.ok(names(sb).has(name), `${name} on the second app`)
  }
  if (process.platform === 'linux') assert.ok(sa.get('process_resident_memory_bytes')! > 0)
  assert.ok(sa.get('nodejs_heap_size_used_bytes')! > 0)
  assert.match((await call(a, { url: '/gate/metrics' })).body, /^# TYPE nodejs_gc_duration_seconds histogram$/m)
  assert.ok(names(sa).has('gate_online_users'), 'the gate metrics are still there')
  assert.equal(await globalRegistry.getSingleMetric('process_cpu_user_seconds_total'), undefined)
  assert.equal(await globalRegistry.getSingleMetric('nodejs_heap_size_used_bytes'), undefined)
})

test('metricsPlugin with processMetrics: false serves the gate metrics only', async (t) => {
  const s = await startGate(t, { admin: { tokens: [...TOKENS] } }, async app => {
    registerTestMessages(app)
    await app.register(metricsPlugin, { path: '/metrics', processMetrics: false })
  })
  const res = await s.app.inject({ url: '/metrics' })
  assert.equal(res.statusCode, 200)
  assert.match(res.body, /^gate_online_users 0$/m)
  assert.doesNotMatch(res.body, /process_cpu_user_seconds_total/)
  assert.match((await call(s, { url: '/gate/metrics' })).body, /^process_cpu_user_seconds_total /m, 'the admin route keeps them')
})
