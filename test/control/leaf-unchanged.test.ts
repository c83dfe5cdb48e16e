/**
 * A leaf client that never sends a control message (docs/protocol.md section
 * 10) sees not one byte change when the gate turns `clientControl` and
 * `canJoin` on, and history kept per uid and per room (`roomHistory`): the
 * same script, on raw TCP, receives the same bytes.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { test, type TestContext } from 'node:test'
import { PROTO_PATH } from '../../examples/chat/app.js'
import { canJoin, registerChat } from '../../examples/chat/handlers.js'
import { tokenSigner, tokenVerifier } from '../../examples/chat/tokens.js'
import { chatWire, SECRET } from '../example/helper.js'
import { startCore } from '../helper.js'

/** A raw TCP client that keeps every byte and counts `| len:2 | payload |` frames. */
class RawTcp {
  readonly bytes: Buffer[] = []
  private frames = 0
  private waiting: { n: number, resolve: () => void } | undefined
  private buf = Buffer.alloc(0)
  constructor (readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes.push(chunk)
      this.buf = Buffer.concat([this.buf, chunk])
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        this.buf = this.buf.subarray(2 + this.buf.readUInt16BE(0))
        this.frames++
      }
      if (this.waiting !== undefined && this.frames >= this.waiting.n) this.waiting.resolve()
    })
  }

  async frameCount (n: number): Promise<void> {
    if (this.frames >= n) return
    await new Promise<void>(resolve => { this.waiting = { n, resolve } })
  }
}

/** `control`: clientControl and canJoin on, and the example's history (per uid and per room) on. */
async function script (t: TestContext, encoding: 'json' | 'protobuf', control: boolean): Promise<Buffer> {
  const s = await startCore(t, {
    encoding,
    protobuf: encoding === 'protobuf' ? { root: PROTO_PATH } : undefined,
    ...(control ? { clientControl: true, canJoin } : {})
  }, app => { registerChat(app.gate, tokenVerifier(SECRET), control) })
  const wire = chatWire(encoding)
  const socket = net.connect({ port: s.tcpPort, host: '127.0.0.1' })
  await once(socket, 'connect')
  t.after(() => socket.destroy())
  const raw = new RawTcp(socket)
  const send = (name: string, body: unknown): void => { socket.write(wire.frame(wire.encode(name, body))) }
  send('C2S_UserLogin', { token: tokenSigner(SECRET, 0)('alice'), login_plat: 1 })
  send('C2S_UpdateWatchRoom', { rooms: ['lobby', 'private:bob'] })
  await raw.frameCount(2)
  await s.app.gate.pushToRoom('lobby', 'S2C_Error', { code: 'X', msg: 'a room push' })
  await raw.frameCount(3)
  // Kept in the room's history when history is on (roomHistory): the same bytes to a client that never subscribed with since.
  const kept = await s.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'bob', room: 'lobby', content: 'kept', ts: 1 })
  assert.equal(kept.stored, control ? 1 : undefined)
  await raw.frameCount(4)
  send('C2S_UpdateWatchRoom', { rooms: [] })
  await raw.frameCount(5)
  return Buffer.concat(raw.bytes)
}

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: a leaf client's bytes are the same with clientControl, canJoin and room history on as with them off`, async (t) => {
    const before = await script(t, encoding, false)
    const after = await script(t, encoding, true)
    assert.ok(before.length > 0)
    assert.equal(after.toString('hex'), before.toString('hex'))
  })
}
