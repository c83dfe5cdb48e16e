/**
 * `fastify-gate/workers`: one gateway per core behind one set of ports, on
 * `node:cluster` (docs/cluster.md, "Workers"). Nothing here imports Fastify.
 */
import cluster from 'node:cluster'
import { normalizeWorkersOptions, type WorkersOptions } from './options.js'
import { Primary } from './primary.js'
import { WORKER_ENV } from './wire.js'
import { serve } from './worker.js'

export { workerCount, type Stoppable, type WorkerInfo, type WorkersOptions } from './options.js'
export { onStopSignals, STOP_SIGNALS, type StopSignal } from './signals.js'

/**
 * Runs `start` once per worker (`workers`, default 1), every worker a node of
 * the cluster with id `<nodeId>-<n>`, sharing the ports it listens on. Call it
 * at the top of your server's entry file, which every worker runs again: in
 * the top process it forks and supervises the workers; in a worker, and in the
 * top process with one worker, it runs `start`. SIGINT and SIGTERM drain
 * (`app.close()`) and exit; see `WorkersOptions` for the bounds.
 */
export async function runWorkers (options: WorkersOptions): Promise<void> {
  const o = normalizeWorkersOptions(options)
  const index = process.env[WORKER_ENV.index]
  if (cluster.isWorker && index !== undefined) {
    const info = { index: Number(index), nodeId: process.env[WORKER_ENV.nodeId], workers: Number(process.env[WORKER_ENV.workers]) }
    await serve(info, o.start, o.log.child({ worker: info.index }))
    return
  }
  if (o.workers === 1) {
    await serve({ index: 0, nodeId: o.nodeId, workers: 1 }, o.start, o.log.child({ worker: 0 }))
    o.onReady?.({ workers: 1, nodeIds: [o.nodeId] })
    return
  }
  new Primary(o).run()
}
