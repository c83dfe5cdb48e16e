import { readFileSync } from 'node:fs'
import net from 'node:net'

/**
 * The ports the tests listen on are picked below the kernel's ephemeral range
 * (`net.ipv4.ip_local_port_range`, 32768-60999 by default on Linux). A port
 * from the ephemeral range, free when checked, can be taken a moment later by
 * any outgoing connection of the four test files that run at once (to Redis,
 * to a gateway) as its local port, and the server then fails with EADDRINUSE;
 * below the range only another listener can take it.
 */
const EPHEMERAL_LOW = (() => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 12000 ? low : undefined
  } catch {
    return undefined
  }
})()
const LOWEST = 10000

async function listens (port: number): Promise<number | undefined> {
  const server = net.createServer()
  const bound = await new Promise<boolean>(resolve => {
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => { resolve(true) })
  })
  if (!bound) return undefined
  const { port: got } = server.address() as net.AddressInfo
  await new Promise(resolve => server.close(resolve))
  return got
}

/** A port on 127.0.0.1 that nobody listens on (bound, then released), below the ephemeral range where there is one. */
export async function freePort (): Promise<number> {
  if (EPHEMERAL_LOW !== undefined) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await listens(LOWEST + Math.floor(Math.random() * (EPHEMERAL_LOW - LOWEST)))
      if (port !== undefined) return port
    }
  }
  const port = await listens(0)
  if (port === undefined) throw new Error('no free port on 127.0.0.1')
  return port
}
