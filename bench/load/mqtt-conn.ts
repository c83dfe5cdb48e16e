/**
 * The load generator's MQTT 3.1.1 connection, as lean as the other kinds:
 * packets to send are generated once by mqtt-packet, packets that come back go
 * through mqtt-packet's parser, and only a PUBLISH's payload reaches
 * `onMessage`. CONNECT carries the uid as client id and user name and the JWT
 * as password (what fastify-gate's `mqtt` protocol logs in with; a plain broker
 * ignores it), keep-alive off.
 *
 * Against fastify-gate the heartbeat is the shared PUBLISH to
 * `C2S_UserHeartBeat` (conns.ts `prepare`) and the gate answers it. A plain broker has no handlers: the connection
 * subscribes to a topic of its own (`echo/<uid>`) and publishes its heartbeat
 * there, so the broker's delivery back is the answer; one message in and one
 * out per round trip, as with the gate.
 */
import mqttPacket, { type Packet } from 'mqtt-packet'
import net from 'node:net'
import { prepare, type LoadConn, type Prepared, type Target } from './conns.js'

const ignore = (): void => {}
const gen = (packet: Packet): Buffer => mqttPacket.generate(packet)

export class MqttConn implements LoadConn {
  onMessage: (data: Buffer) => void = ignore
  /** To a plain broker: the heartbeat, published to this connection's own topic. */
  readonly heartbeat: Buffer | undefined
  readonly closed: Promise<void>
  private readonly socket: net.Socket
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 })
  private readonly topic: string | undefined
  private waiting: { cmd: string, resolve: (p: Packet) => void, reject: (e: Error) => void } | undefined

  private constructor (target: Target, uid: string, localAddress: string | undefined) {
    this.topic = target.broker === true ? `echo/${uid}` : undefined
    this.heartbeat = this.topic === undefined ? undefined : prepare('mqtt', this.topic, { ptime: 1 }) as Buffer
    this.socket = net.connect({ host: target.host, port: target.port, localAddress, noDelay: true })
    this.closed = new Promise(resolve => this.socket.once('close', () => resolve()))
    this.socket.on('error', err => this.fail(err))
    this.socket.once('close', () => this.fail(new Error('closed')))
    this.socket.on('data', (chunk: Buffer) => this.parser.parse(chunk))
    this.parser.on('error', err => this.fail(err))
    this.parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'publish') {
        this.onMessage(packet.payload as Buffer)
        return
      }
      if (this.waiting?.cmd === packet.cmd) {
        const w = this.waiting
        this.waiting = undefined
        w.resolve(packet)
      }
    })
  }

  /** Connects and logs in (and, for a broker, subscribes), or rejects after `timeoutMs`. */
  static async open (target: Target, uid: string, token: string, localAddress: string | undefined, timeoutMs: number): Promise<MqttConn> {
    const conn = new MqttConn(target, uid, localAddress)
    const timer = setTimeout(() => conn.fail(new Error('connect timeout')), timeoutMs)
    try {
      const connack = await conn.ask('connack', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: uid, keepalive: 0, username: uid, password: Buffer.from(token) })
      if (connack.cmd !== 'connack' || connack.returnCode !== 0) throw new Error(`CONNACK return code ${String((connack as { returnCode?: number }).returnCode)}`)
      if (conn.topic !== undefined) await conn.ask('suback', { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: conn.topic, qos: 0 }] })
      return conn
    } catch (err) {
      conn.close()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private async ask (answer: string, packet: Packet): Promise<Packet> {
    return await new Promise((resolve, reject) => {
      this.waiting = { cmd: answer, resolve, reject }
      this.socket.write(gen(packet))
    })
  }

  private fail (err: Error): void {
    const w = this.waiting
    this.waiting = undefined
    w?.reject(err)
  }

  send (p: Prepared): void {
    this.socket.write(p)
  }

  close (): void {
    this.socket.destroy()
  }
}
