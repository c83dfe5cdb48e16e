/**
 * The example chat gateway (`npm start`). Configuration by environment: see
 * config.ts and the README. With GATE_WORKERS=N (or auto) this process forks N
 * workers that share the ports, each a node `<GATE_NODE_ID>-<n>` of the cluster
 * (fastify-gate/workers, docs/cluster.md).
 */
import cluster from 'node:cluster'
import { loadConfig, type ChatConfig } from './config.js'
import { runWorkers } from '../../src/workers/index.js'

let config: ChatConfig
try {
  config = loadConfig()
} catch (err) {
  process.stderr.write(`configuration error: ${(err as Error).message}\n`)
  process.exit(2)
}
// The workers run this file again: they must get the admin token the top process chose.
if (cluster.isPrimary && config.adminTokenGenerated) process.env.GATE_ADMIN_TOKEN = config.adminToken

// `npm start` runs this file with `exec node`, so this process is npm's own
// child and gets the SIGTERM that npm passes on. SIGINT and SIGTERM both drain
// (GATE_DRAIN_TIME), bounded by the gate's shutdownTimeout (with workers: by
// GATE_DRAIN_TIME + 5 s); a Ctrl-C reaches npm and node at once, so a second
// signal within a second is the same one; a later one exits at once.
await runWorkers({
  workers: config.workers,
  nodeId: config.nodeId,
  drainTime: config.drainTime,
  start: async ({ nodeId }) => {
    // Loaded where it serves: a top process that only forks workers, or that
    // stops on a configuration error, never loads Fastify and the gate.
    const { buildChatApp } = await import('./app.js')
    const app = await buildChatApp({ ...config, nodeId })
    await app.listen({ port: config.port, host: config.host })
    const tcp = app.gateTcpAddress()
    const mqtt = app.gateAddress('mqtt')
    app.log.info({
      websocket: `ws://${config.host}:${config.port}${app.gate.options.path}`,
      tcp: tcp ? `${tcp.address}:${tcp.port}` : 'off',
      mqtt: mqtt ? `${mqtt.address}:${mqtt.port}` : 'off',
      demo: `http://${config.host}:${config.port}/`,
      dashboard: `http://${config.host}:${config.port}/gate/ui/`,
      encoding: config.encoding,
      node: app.gate.nodeId,
      mode: app.gate.directory.mode
    }, 'chat gateway ready')
    return app
  },
  onReady: () => {
    if (config.adminTokenGenerated) {
      process.stdout.write(`\nAdmin API token (set GATE_ADMIN_TOKEN to choose your own): ${config.adminToken}\n\n`)
    }
  }
})
