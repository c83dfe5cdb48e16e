/**
 * Scenario 6, MQTT echo: the echo of scenario 1 over MQTT 3.1.1 (TCP), the
 * gate's `mqtt` protocol beside aedes (the Node broker) and mosquitto (C).
 * Each connection logs in at CONNECT and keeps one QoS 0 heartbeat in flight:
 * the gate answers `C2S_UserHeartBeat` itself; a broker delivers the PUBLISH
 * back to its sender's own subscription (load/mqtt-conn.ts). Same windows,
 * knobs and CPU accounting as the echo.
 */
import { mqttBrokers } from '../lib/contenders.js'
import type { ScenarioResult } from '../lib/params.js'
import { echoOf } from './echo.js'

export async function run (): Promise<ScenarioResult> {
  return await echoOf('mqtt', [{ transport: 'mqtt', contenders: mqttBrokers }])
}
