import { addCounts, quantile } from './histogram.js'
import type { NodeFigures, TotalFigures } from './schema.js'

const sumRecords = (records: Array<Record<string, number>>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of records) for (const [k, n] of Object.entries(r)) out[k] = (out[k] ?? 0) + n
  return out
}

/**
 * The cluster total of some nodes' figures: counts and rates summed, percentiles
 * from the merged latency buckets. `onlineUsers` is the sum of each node's
 * distinct uids (a uid on two nodes counts twice); `GET /stats` has the
 * distinct cluster count.
 */
export function totalFigures (nodes: readonly NodeFigures[]): TotalFigures {
  const sum = (pick: (n: NodeFigures) => number): number => nodes.reduce((acc, n) => acc + pick(n), 0)
  const buckets = nodes.reduce<number[]>((acc, n) => addCounts(acc, n.latencyBuckets), nodes[0]?.latencyBuckets.map(() => 0) ?? [])
  return {
    connections: { ws: sum(n => n.connections.ws), tcp: sum(n => n.connections.tcp) },
    protocols: sumRecords(nodes.map(n => n.protocols)),
    onlineUsers: sum(n => n.onlineUsers),
    msgsIn: sum(n => n.msgsIn),
    msgsOut: sum(n => n.msgsOut),
    bytesIn: sum(n => n.bytesIn),
    bytesOut: sum(n => n.bytesOut),
    handled: sum(n => n.handled),
    latencyBuckets: buckets,
    p50: quantile(0.5, buckets),
    p99: quantile(0.99, buckets),
    closes: sumRecords(nodes.map(n => n.closes)),
    handlerErrors: sum(n => n.handlerErrors),
    refused: sum(n => n.refused)
  }
}
