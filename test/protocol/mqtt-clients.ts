import mqtt, { type MqttClient } from 'mqtt'
import type { TestContext } from 'node:test'
import type { Chat } from '../example/helper.js'

/** A PUBLISH a test client got, its payload parsed as JSON. */
export interface Got { topic: string, body: any }

/**
 * An MQTT.js client (no reconnect) of the example app in this process over TCP
 * or WebSocket, or of `at` (a URL: `mqtt://…` or `ws://…/mqtt`); every PUBLISH
 * it gets kept in `got`.
 */
export async function connectMqtt (t: TestContext, at: Chat | string, opts: mqtt.IClientOptions, via: 'tcp' | 'ws' = 'tcp'): Promise<{ c: MqttClient, got: Got[], present: boolean }> {
  const got: Got[] = []
  const url = typeof at === 'string'
    ? at
    : via === 'tcp'
      ? `mqtt://127.0.0.1:${at.app.gateAddress('mqtt')!.port}`
      : `ws://127.0.0.1:${(at.app.server.address() as { port: number }).port}/mqtt`
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  c.on('message', (topic, payload) => { got.push({ topic, body: JSON.parse(payload.toString()) }) })
  t.after(() => c.end(true))
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    c.once('connect', resolve)
    c.once('error', reject)
  })
  return { c, got, present: connack.sessionPresent }
}
