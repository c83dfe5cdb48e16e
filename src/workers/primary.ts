import cluster, { type Worker } from 'node:cluster'
import type { NormalizedWorkersOptions } from './options.js'
import { onStopSignals } from './signals.js'
import { WORKER_ENV, type ToWorker, isFromWorker } from './wire.js'

/** How much sooner than `drainTime + 5000` the top process kills the workers still running, to exit within it. */
const EXIT_MARGIN = 500

/** One worker slot: worker n, restarted in place when it dies. */
interface Slot {
  readonly index: number
  worker: Worker | undefined
  ready: boolean
}

/**
 * The top process: forks the workers (`node:cluster`, whose primary hands new
 * connections of the shared ports to the workers in turn), starts a dead one
 * again (at most `maxRestarts` within `restartWindow`), and on SIGINT or
 * SIGTERM tells every worker to drain, then exits once they are gone, or
 * kills them at the bound.
 */
export class Primary {
  private readonly o: NormalizedWorkersOptions
  private readonly slots: Slot[]
  private readonly restarts: number[] = []
  private everReady = false
  private stopping = false
  private exitCode = 0

  constructor (opts: NormalizedWorkersOptions) {
    this.o = opts
    this.slots = Array.from({ length: opts.workers }, (_, i) => ({ index: i + 1, worker: undefined, ready: false }))
  }

  run (): void {
    const { log } = this.o
    log.info({ workers: this.o.workers, nodeId: this.o.nodeId, scheduling: cluster.schedulingPolicy === cluster.SCHED_RR ? 'round-robin' : 'os' }, 'starting workers')
    onStopSignals((signal) => {
      log.info({ signal }, 'shutting down: draining every worker')
      this.stop(0)
    }, (signal) => {
      log.warn({ signal }, 'second signal: killing the workers now')
      this.kill()
      process.exit(1)
    })
    for (const slot of this.slots) this.fork(slot)
  }

  private nodeIdOf (slot: Slot): string {
    return `${this.o.nodeId!}-${slot.index}`
  }

  private fork (slot: Slot): void {
    const worker = cluster.fork({ [WORKER_ENV.index]: String(slot.index), [WORKER_ENV.nodeId]: this.nodeIdOf(slot), [WORKER_ENV.workers]: String(this.o.workers) })
    slot.worker = worker
    slot.ready = false
    worker.on('message', (msg: unknown) => {
      if (!isFromWorker(msg) || msg.gate !== 'ready') return
      slot.ready = true
      this.o.log.info({ worker: slot.index, nodeId: this.nodeIdOf(slot), pid: worker.process.pid }, 'worker ready')
      if (!this.everReady && this.slots.every(s => s.ready)) {
        this.everReady = true
        this.o.log.info({ workers: this.o.workers, nodeIds: this.slots.map(s => this.nodeIdOf(s)) }, 'all workers ready')
        this.o.onReady?.({ workers: this.o.workers, nodeIds: this.slots.map(s => this.nodeIdOf(s)) })
      }
      // A worker restarted while the others drain: it drains at once.
      if (this.stopping) this.tell(worker, { gate: 'drain' })
    })
    worker.on('exit', (code, signal) => { this.exited(slot, worker, code, signal) })
  }

  private exited (slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return
    slot.worker = undefined
    const { log } = this.o
    if (this.stopping) {
      if (code !== 0) this.exitCode = 1
      log.info({ worker: slot.index, code, signal }, 'worker stopped')
      if (this.slots.every(s => s.worker === undefined)) process.exit(this.exitCode)
      return
    }
    const wasReady = slot.ready
    slot.ready = false
    if (!wasReady && !this.everReady) {
      log.error({ worker: slot.index, code, signal }, 'a worker exited before it was ready: stopping')
      this.stop(1)
      return
    }
    const now = Date.now()
    while (this.restarts.length > 0 && now - this.restarts[0] > this.o.restartWindow) this.restarts.shift()
    if (this.restarts.length >= this.o.maxRestarts) {
      log.error({ worker: slot.index, code, signal, restarts: this.restarts.length, restartWindow: this.o.restartWindow }, 'workers keep dying: giving up, stopping every worker')
      this.stop(1)
      return
    }
    this.restarts.push(now)
    log.warn({ worker: slot.index, code, signal, nodeId: this.nodeIdOf(slot) }, 'worker died: starting it again')
    this.fork(slot)
  }

  /** Tells every worker to drain; exits when they are gone, or kills them at the bound. */
  private stop (code: number): void {
    if (code !== 0) this.exitCode = code
    if (this.stopping) return
    this.stopping = true
    for (const slot of this.slots) if (slot.worker !== undefined) this.tell(slot.worker, { gate: 'drain' })
    if (this.slots.every(s => s.worker === undefined)) process.exit(this.exitCode)
    const bound = Math.max(0, this.o.drainTime + 5000 - EXIT_MARGIN)
    setTimeout(() => {
      const left = this.slots.filter(s => s.worker !== undefined).map(s => s.index)
      this.o.log.error({ workers: left, bound }, 'workers still running after the drain bound: killing them')
      this.kill()
      process.exit(1)
    }, bound)
  }

  private kill (): void {
    for (const slot of this.slots) slot.worker?.process.kill('SIGKILL')
  }

  private tell (worker: Worker, msg: ToWorker): void {
    if (worker.isConnected()) worker.send(msg, (err: Error | null) => { if (err !== null) this.o.log.debug({ err }, 'could not reach a worker') })
  }
}
