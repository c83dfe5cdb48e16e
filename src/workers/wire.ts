/** What a worker learns of the top process, in its environment (set by `cluster.fork`). */
export const WORKER_ENV = {
  index: 'FASTIFY_GATE_WORKER',
  nodeId: 'FASTIFY_GATE_WORKER_NODE_ID',
  workers: 'FASTIFY_GATE_WORKERS'
} as const

/** Top process to worker, over the cluster's IPC channel. */
export interface ToWorker { gate: 'drain' }
/** Worker to top process. */
export interface FromWorker { gate: 'ready' }

export function isFromWorker (msg: unknown): msg is FromWorker {
  return typeof msg === 'object' && msg !== null && (msg as FromWorker).gate === 'ready'
}

export function isToWorker (msg: unknown): msg is ToWorker {
  return typeof msg === 'object' && msg !== null && (msg as ToWorker).gate === 'drain'
}
