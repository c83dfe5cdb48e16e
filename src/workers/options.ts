import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import pino from 'pino'
import type { GateLogger } from '../logger.js'
import { fail, int } from '../option-checks.js'

/** Who a gateway process is: what `start` gets. */
export interface WorkerInfo {
  /** 1 to `workers` in a worker; 0 when the gateway runs in the top process itself (`workers: 1`). */
  index: number
  /** The node id to give the gate: `<nodeId>-<index>` in a worker, `nodeId` as given in the top process. */
  nodeId: string | undefined
  /** How many gateway processes there are. */
  workers: number
}

/** What `start` returns: something that drains and stops (a Fastify app with the gate fits). */
export interface Stoppable {
  close: () => PromiseLike<unknown>
}

export interface WorkersOptions {
  /**
   * Gateway processes on this host: a number, or `'auto'` (one per available
   * core, `os.availableParallelism()`). 1 (the default) runs `start` in this
   * process, without `node:cluster`. More than one needs a shared directory
   * (the gate's `redis` option): each worker is a node of the cluster.
   */
  workers?: number | 'auto'
  /** The base of the workers' node ids (`<nodeId>-<n>`, n from 1). Default: 8 random hex digits, the same for every worker. */
  nodeId?: string
  /**
   * The gate's `drainTime` (ms). On SIGINT or SIGTERM the top process tells
   * every worker to drain, and kills those still running `drainTime + 5000` ms
   * later (less half a second, to exit within that), then exits. Default 5000.
   */
  drainTime?: number
  /** Restarts of dead workers allowed within `restartWindow`; one more stops every worker and exits 1. Default 5. */
  maxRestarts?: number
  /** ms over which `maxRestarts` is counted. Default 60000. */
  restartWindow?: number
  /** The top process's logger. Default: pino to stdout. */
  log?: GateLogger
  /** Starts one gateway (listening); in every worker, or in this process with `workers: 1`. */
  start: (info: WorkerInfo) => Promise<Stoppable>
  /** In the top process, once every gateway is ready (again after a restart: not called). */
  onReady?: (info: { workers: number, nodeIds: Array<string | undefined> }) => void
}

export type NormalizedWorkersOptions = Required<Omit<WorkersOptions, 'nodeId' | 'onReady' | 'workers'>> & {
  workers: number
  nodeId: string | undefined
  onReady: WorkersOptions['onReady']
}

/** How many processes `workers` means on this host. */
export function workerCount (workers: number | 'auto' = 1): number {
  if (workers === 'auto') return availableParallelism()
  return int('workers', workers, 1, 1024)
}

export function normalizeWorkersOptions (opts: WorkersOptions): NormalizedWorkersOptions {
  if (typeof opts.start !== 'function') fail('start', 'must be a function that starts one gateway and returns it')
  const workers = workerCount(opts.workers)
  const nodeId = opts.nodeId ?? (workers > 1 ? randomBytes(4).toString('hex') : undefined)
  if (nodeId !== undefined && (typeof nodeId !== 'string' || !/^[A-Za-z0-9_.:-]{1,58}$/.test(nodeId))) {
    fail('nodeId', 'must be 1-58 characters of A-Z a-z 0-9 _ . : - (a worker adds -<n>)')
  }
  return {
    workers,
    nodeId,
    drainTime: int('drainTime', opts.drainTime ?? 5000, 0, 2 ** 31 - 1),
    maxRestarts: int('maxRestarts', opts.maxRestarts ?? 5, 0),
    restartWindow: int('restartWindow', opts.restartWindow ?? 60000, 1, 2 ** 31 - 1),
    log: opts.log ?? pino({ base: { pid: process.pid, component: 'workers' } }),
    start: opts.start,
    onReady: opts.onReady
  }
}
