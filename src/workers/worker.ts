import type { GateLogger } from '../logger.js'
import type { Stoppable, WorkerInfo } from './options.js'
import { onStopSignals } from './signals.js'
import { isToWorker, type FromWorker } from './wire.js'

/**
 * One gateway process (a worker, or the top process itself with one worker):
 * starts it, then drains it and exits 0 on SIGINT, SIGTERM or the top
 * process's word (1 when the drain failed). A second signal within a second is
 * the same one (Ctrl-C reaches every process of the group at once); a later one
 * exits at once. A gateway that fails to start exits 1.
 */
export async function serve (info: WorkerInfo, start: (info: WorkerInfo) => Promise<Stoppable>, log: GateLogger): Promise<void> {
  let server: Stoppable
  try {
    server = await start(info)
  } catch (err) {
    log.error({ err }, 'could not start')
    process.exit(1)
  }
  let closing: Promise<unknown> | undefined
  const drain = (why: string): void => {
    if (closing !== undefined) return
    log.info({ why }, 'shutting down')
    closing = Promise.resolve(server.close()).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'error during shutdown')
      process.exit(1)
    })
  }
  onStopSignals(signal => { drain(signal) }, (signal) => {
    log.warn({ signal }, 'second signal: exiting now')
    process.exit(1)
  })
  if (process.send !== undefined) {
    process.on('message', (msg: unknown) => { if (isToWorker(msg)) drain('the top process') })
    process.send({ gate: 'ready' } satisfies FromWorker)
  }
}
