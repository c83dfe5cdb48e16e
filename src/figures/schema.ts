import { Type, type Static } from '@sinclair/typebox'
import { clusterFields, GateStats } from '../answers.js'

const Count = Type.Integer({ minimum: 0 })
const Rate = Type.Number({ minimum: 0, description: 'per second, over the last `window` seconds' })
const Seconds = Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'seconds; null without handled messages in the window' })

/** One node's live figures: counts now, rates and latency over its last few samples. */
export const NodeFigures = Type.Object({
  node: Type.String(),
  /** Unix ms of the newest sample. */
  at: Type.Integer(),
  window: Type.Number({ minimum: 0, description: 'seconds the rates and latencies cover' }),
  connections: Type.Object({ ws: Count, tcp: Count }, { description: 'open connections on the node, by transport' }),
  protocols: Type.Record(Type.String(), Count, { description: 'open connections by protocol: leaf, mqtt, or an application protocol' }),
  onlineUsers: Type.Integer({ minimum: 0, description: 'distinct uids logged in on this node' }),
  msgsIn: Rate,
  msgsOut: Rate,
  bytesIn: Rate,
  bytesOut: Rate,
  handled: Type.Integer({ minimum: 0, description: 'handler runs in the window' }),
  latencyBuckets: Type.Array(Count, { description: 'handler runs in the window per bucket of `latencyBounds`, the last one above them all' }),
  p50: Seconds,
  p99: Seconds,
  closes: Type.Record(Type.String(), Count, { description: 'connections closed since start, by close code' }),
  handlerErrors: Type.Integer({ minimum: 0, description: 'since start' }),
  refused: Type.Integer({ minimum: 0, description: 'connections refused since start (gate full or not serving)' })
})
export type NodeFigures = Static<typeof NodeFigures>

/** The cluster total: rates and closes summed, percentiles from the merged buckets. */
export const TotalFigures = Type.Omit(NodeFigures, ['node', 'at', 'window'])
export type TotalFigures = Static<typeof TotalFigures>

/** The dashboard's one poll (`GET /gate/figures`): the cluster's counts, every node's figures and their total. */
export const FiguresAnswer = Type.Object({
  stats: GateStats,
  latencyBounds: Type.Array(Type.Number(), { description: 'upper bounds (seconds) of the latency buckets' }),
  total: TotalFigures,
  nodes: Type.Array(NodeFigures, { description: 'every node that answered, the answering node first' }),
  ...clusterFields
})
export type FiguresAnswer = Static<typeof FiguresAnswer>
