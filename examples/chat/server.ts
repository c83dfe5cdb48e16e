/**
 * The example chat gateway (`npm start`). Configuration by environment: see
 * config.ts and the README.
 */
import { buildChatApp } from './app.js'
import { loadConfig } from './config.js'
import { onStopSignals } from '../../src/workers/signals.js'

let config
try {
  config = loadConfig()
} catch (err) {
  process.stderr.write(`configuration error: ${(err as Error).message}\n`)
  process.exit(2)
}

const app = await buildChatApp(config)
try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  app.log.error({ err }, 'could not start')
  process.exit(1)
}

const tcp = app.gateTcpAddress()
app.log.info({
  websocket: `ws://${config.host}:${config.port}${app.gate.options.path}`,
  tcp: tcp ? `${tcp.address}:${tcp.port}` : 'off',
  demo: `http://${config.host}:${config.port}/`,
  dashboard: `http://${config.host}:${config.port}/gate/ui/`,
  encoding: config.encoding,
  node: app.gate.nodeId,
  mode: app.gate.directory.mode
}, 'chat gateway ready')
if (config.adminTokenGenerated) {
  process.stdout.write(`\nAdmin API token (set GATE_ADMIN_TOKEN to choose your own): ${config.adminToken}\n\n`)
}

// `npm start` runs this file with `exec node`, so this process is npm's own
// child and gets the SIGTERM that npm passes on. SIGINT and SIGTERM both drain
// (GATE_DRAIN_TIME), bounded by the gate's shutdownTimeout; a Ctrl-C reaches npm
// and node at once, so a second signal within a second is the same one; a later
// one exits at once.
onStopSignals((signal) => {
  app.log.info({ signal }, 'shutting down')
  app.close().then(() => process.exit(0), (err: unknown) => {
    app.log.error({ err }, 'error during shutdown')
    process.exit(1)
  })
}, (signal) => {
  app.log.warn({ signal }, 'second signal: exiting now')
  process.exit(1)
})
