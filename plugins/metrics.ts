import { Type, type FastifyPluginAsyncTypebox, type TSchema } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import type * as PromClient from 'prom-client'
import type { Counter, Registry } from 'prom-client'
import { onFirstUse } from '../src/on-first-use.js'
import type { GateRuntime } from '../src/runtime.js'
import { LatencyHistogram } from './latency-histogram.js'

/** Handler latency buckets, in seconds: handlers are usually well under a millisecond. */
const HANDLER_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * prom-client, loaded on first use: an app that serves no metrics and never
 * calls `gateMetrics` does not load it (about 80 files with its OpenTelemetry
 * API, 6 MiB of heap).
 */
const promClient = onFirstUse<typeof PromClient>('prom-client')

/** A counter that reports a monotonic total kept elsewhere (the gate's counters). */
function totalCounter (registry: Registry, name: string, help: string, total: () => number): Counter {
  const { Counter } = promClient()
  return new Counter({
    name,
    help,
    registers: [registry],
    collect () {
      this.reset()
      this.inc(total())
    }
  })
}

/**
 * This node's gate metrics, in a registry of their own (not prom-client's global
 * one, so two apps in one process do not clash). Gauges and counters are read from
 * the gate when scraped; the handler latency histogram is fed through
 * the gate's runtime face (`gate.runtime.observer`; an observer already set is
 * still called). Takes the gate, `gateMetrics(app.gate)`.
 */
export function gateMetrics (app: { readonly runtime: GateRuntime }): Registry {
  const gate = app.runtime
  const { Counter, Gauge, Registry } = promClient()
  const registry = new Registry()
  const { counters } = gate

  new Gauge({
    name: 'gate_connections',
    help: 'Open connections on this node, by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect () {
      const { ws, tcp } = gate.local.transports
      this.set({ transport: 'ws' }, ws)
      this.set({ transport: 'tcp' }, tcp)
    }
  })
  new Gauge({
    name: 'gate_protocol_connections',
    help: 'Open connections on this node, by protocol (leaf, mqtt, or an application protocol)',
    labelNames: ['protocol'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const [protocol, n] of Object.entries(gate.local.protocols)) this.set({ protocol }, n)
    }
  })
  new Gauge({
    name: 'gate_online_users',
    help: 'Distinct uids logged in on this node',
    registers: [registry],
    collect () { this.set(gate.local.onlineUsers) }
  })
  totalCounter(registry, 'gate_received_messages_total', 'Messages received from clients', () => counters.msgsIn)
  totalCounter(registry, 'gate_sent_messages_total', 'Messages written to clients', () => counters.msgsOut)
  totalCounter(registry, 'gate_received_bytes_total', 'Bytes received from clients (TCP: with the length prefix)', () => counters.bytesIn)
  totalCounter(registry, 'gate_sent_bytes_total', 'Bytes written to clients (TCP: with the length prefix)', () => counters.bytesOut)
  totalCounter(registry, 'gate_handler_errors_total', 'Message handlers that threw or rejected', () => counters.handlerErrors)
  totalCounter(registry, 'gate_refused_connections_total', 'Connections refused: full, per-IP cap or rate, or not serving', () => counters.refused)
  new Counter({
    name: 'gate_refusals_total',
    help: 'Connections refused, by reason (full, ip-limit, ip-rate, not-serving)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const [reason, n] of gate.refusals) this.inc({ reason }, n)
    }
  })
  totalCounter(registry, 'gate_throttled_total', 'Times a connection stopped reading because it passed msgRate', () => counters.throttled)
  totalCounter(registry, 'gate_address_throttled_total', 'Times a connection stopped reading because its address passed msgRatePerIp', () => counters.addressThrottled)
  totalCounter(registry, 'gate_logins_throttled_total', 'Times a login waited because its IP passed loginRatePerIp', () => counters.loginsThrottled)
  new Gauge({
    name: 'gate_outbound_backlog_bytes',
    help: 'Outbound bytes waiting in the connections\' queues (bounded by maxTotalBufferedBytes)',
    registers: [registry],
    collect () { this.set(gate.backlog.bytes) }
  })
  new Gauge({
    name: 'gate_unfinished_http_requests',
    help: 'HTTP connections still sending their first request\'s headers (dropped after headersTimeout)',
    registers: [registry],
    collect () { this.set(gate.admission.unfinishedHttp) }
  })
  new Counter({
    name: 'gate_closes_total',
    help: 'Closed connections, by close code',
    labelNames: ['code'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const [code, n] of counters.closes) this.inc({ code: String(code) }, n)
    }
  })

  const latency = new LatencyHistogram({
    name: 'gate_handler_duration_seconds',
    help: 'Message handler run time, by message name and result',
    buckets: HANDLER_BUCKETS,
    registers: [registry]
  })
  const previous = gate.observer
  gate.observer = {
    handled (name, seconds, failed) {
      latency.observe(name, failed, seconds)
      previous?.handled?.(name, seconds, failed)
    }
  }
  return registry
}

let processRegistry: Registry | undefined

/**
 * prom-client's default metrics (CPU, resident memory, heap and heap spaces,
 * event loop lag, GC durations, file descriptors, handles), collected once per
 * process into a registry of their own: they describe the process, not one
 * app, and `collectDefaultMetrics` starts a GC observer and an event loop
 * monitor that are never stopped, so one collection per app would leak them
 * (and keep each app's registry alive). prom-client's global registry is not
 * touched, so an app may still call `collectDefaultMetrics()` on it.
 */
export function processMetrics (): Registry {
  if (processRegistry === undefined) {
    const { Registry, collectDefaultMetrics } = promClient()
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export interface MetricsPluginOptions {
  /** Where the Prometheus text is served, relative to the context's prefix. Default `/metrics`. */
  path?: string
  /** More of the route's schema (OpenAPI tags, error responses), merged in. */
  schema?: { tags?: string[], response?: Record<number, TSchema> }
  /** Also serve prom-client's default process metrics (see `processMetrics`). Default `true`. */
  processMetrics?: boolean
}

/**
 * `GET /metrics`: this node's gate metrics and the process's default metrics
 * in the Prometheus text format. The
 * admin plugin registers it behind the admin token (`/gate/metrics`); register it
 * yourself, with `admin.metrics: false`, to serve it elsewhere or in the open.
 */
const metrics: FastifyPluginAsyncTypebox<MetricsPluginOptions> = async (app, opts) => {
  const gate = gateMetrics(app.gate)
  const registry = opts.processMetrics === false ? gate : promClient().Registry.merge([gate, processMetrics()])
  app.get(opts.path ?? '/metrics', {
    schema: {
      summary: 'Prometheus metrics of this node',
      produces: ['text/plain'],
      tags: opts.schema?.tags,
      response: { ...opts.schema?.response, 200: Type.String({ description: 'Prometheus text exposition format' }) }
    }
  }, async (_request, reply) => {
    void reply.type(registry.contentType)
    return await registry.metrics()
  })
}

export const metricsPlugin = fp(metrics, {
  fastify: '5.x',
  name: 'fastify-gate-metrics',
  dependencies: ['fastify-gate']
})

export default metricsPlugin
