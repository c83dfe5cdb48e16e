import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Histogram, Registry } from 'prom-client'
import { LatencyHistogram } from '../../plugins/latency-histogram.js'

const opts = { name: 'gate_handler_duration_seconds', help: 'Message handler run time, by message name and result', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1, 10] }

/** The same observations in a prom-client Histogram and a LatencyHistogram, each in its own registry. */
function pair (): { reference: Registry, fast: Registry, observe: (name: string, failed: boolean, seconds: number) => void } {
  const reference = new Registry()
  const fast = new Registry()
  const histogram = new Histogram({ ...opts, labelNames: ['message', 'result'] as const, registers: [reference] })
  const latency = new LatencyHistogram({ ...opts, registers: [fast] })
  return {
    reference,
    fast,
    observe: (name, failed, seconds) => {
      histogram.observe({ message: name, result: failed ? 'error' : 'ok' }, seconds)
      latency.observe(name, failed, seconds)
    }
  }
}

test('exports exactly what a prom-client Histogram does, as text and as JSON, bounds included', async () => {
  const { reference, fast, observe } = pair()
  // on a bound, between bounds, over the last one, a name that needs escaping
  for (const [name, failed, seconds] of [['Echo', false, 0.0005], ['Echo', false, 0.0001], ['Login', false, 0.003], ['Echo', true, 0.3], ['Odd "name"\n', true, 20], ['Login', false, 10]] as const) {
    observe(name, failed, seconds)
  }
  assert.equal(await fast.metrics(), await reference.metrics())
  assert.deepEqual(await fast.getMetricsAsJSON(), await reference.getMetricsAsJSON())
})

test('resetMetrics() empties it, as it empties a prom-client Histogram', async () => {
  const { reference, fast, observe } = pair()
  observe('Echo', false, 0.001)
  reference.resetMetrics()
  fast.resetMetrics()
  assert.equal(await fast.metrics(), await reference.metrics())
  observe('Echo', true, 0.002)
  assert.equal(await fast.metrics(), await reference.metrics())
})
