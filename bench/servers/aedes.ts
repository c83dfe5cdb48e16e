/**
 * aedes (the Node MQTT broker) as benchmarked: in-memory persistence, plain
 * TCP on 127.0.0.1, a free port.
 */
import { Aedes } from 'aedes'
import net from 'node:net'
import { serveServer } from './control.js'

const broker = await Aedes.createBroker()
const server = net.createServer(broker.handle as (socket: net.Socket) => void)
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as net.AddressInfo).port
  serveServer({ port, mqttPort: port, broker: true }, () => broker.connectedClients)
})
