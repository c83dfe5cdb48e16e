import mqttPacket, { type Packet } from 'mqtt-packet'
import net from 'node:net'

/**
 * A raw MQTT client over TCP for the tests that break the rules (bad packets,
 * oversize headers, silence): packets are written as given, received packets
 * are queued for `next()`.
 */
export class RawMqtt {
  readonly socket: net.Socket
  readonly closed: Promise<void>
  private readonly packets: Packet[] = []
  private waiting: ((p: Packet) => void) | undefined

  private constructor (socket: net.Socket) {
    this.socket = socket
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (p: Packet) => {
      if (this.waiting !== undefined) {
        const w = this.waiting
        this.waiting = undefined
        w(p)
      } else this.packets.push(p)
    })
    socket.on('data', chunk => parser.parse(chunk))
    socket.on('error', () => {})
    this.closed = new Promise(resolve => socket.once('close', () => resolve()))
  }

  static async connect (port: number): Promise<RawMqtt> {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new RawMqtt(socket)
  }

  send (packet: Packet | Buffer): void {
    this.socket.write(Buffer.isBuffer(packet) ? packet : mqttPacket.generate(packet))
  }

  /** The next packet from the server; rejects after `ms`. */
  async next (ms = 5000): Promise<Packet> {
    const p = this.packets.shift()
    if (p !== undefined) return p
    return await new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no packet')), ms)
      this.waiting = (packet) => { clearTimeout(timer); resolve(packet) }
    })
  }

  /** Sends CONNECT (level 4 unless told) and returns the CONNACK's return code. */
  async handshake (fields: Partial<mqttPacket.IConnectPacket> = {}): Promise<number> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'raw', keepalive: 0, ...fields })
    const p = await this.next()
    if (p.cmd !== 'connack') throw new Error(`expected connack, got ${p.cmd}`)
    return p.returnCode!
  }

  destroy (): void {
    this.socket.destroy()
  }
}
