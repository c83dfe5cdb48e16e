/**
 * aedes (the Node MQTT broker) as benchmarked: in-memory persistence, plain
 * TCP on PORT (127.0.0.1). Prints "listening <port>" when ready.
 */
import { Aedes } from 'aedes'
import net from 'node:net'

const broker = await Aedes.createBroker()
const server = net.createServer(broker.handle as (socket: net.Socket) => void)
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { server.close(); broker.close(() => process.exit(0)) })
