import { Type } from '@sinclair/typebox'
import type { Gate } from '../../src/gate.js'
import { CloseCode } from '../../src/close-codes.js'
import type { Agent } from '../../src/agent.js'
import * as M from './messages.js'

/** Who may subscribe to a room (the gate's `canJoin`): anyone, but a room `private:<uid>` only that uid. */
export function canJoin (agent: Agent<any>, room: string): boolean {
  return !room.startsWith(M.PRIVATE_ROOM) || room === M.PRIVATE_ROOM + (agent.uid ?? '')
}

/**
 * The chat protocol of docs/protocol.md section 6. Registration order is the protobuf
 * id order (chat.proto declares the messages in the same order).
 */
export function registerChat (gate: Gate, verifyToken: (token: string) => string, history = true): void {
  gate.message('C2S_UserHeartBeat', { schema: M.C2S_UserHeartBeat, needsLogin: false }, (_msg, agent) => {
    agent.send('C2S_UserHeartBeat', { ptime: Math.floor(Date.now() / 1000) })
  })

  gate.message('C2S_UserLogin', { schema: M.C2S_UserLogin, login: true }, async (msg, agent) => {
    let uid: string
    try {
      uid = verifyToken(msg.token)
    } catch (err) {
      agent.log.info({ reason: (err as Error).message }, 'login refused')
      agent.send('S2C_UserLogin', { ret: 0, msg: 'invalid token', uid: '' })
      agent.close(CloseCode.UNAUTHORIZED, 'invalid token')
      return
    }
    let recovery
    try {
      // With resume_pos, the missed messages are replayed before the answer (docs/protocol.md section 8).
      if (msg.resume_pos !== undefined) recovery = await agent.bind(uid, { resume: msg.resume_pos })
      else await agent.bind(uid)
    } catch (err) {
      // e.g. FST_GATE_UID_IN_USE under the "reject" multi-login policy
      agent.send('S2C_UserLogin', { ret: 0, msg: (err as Error).message, uid })
      agent.close(CloseCode.UNAUTHORIZED, 'login refused')
      return
    }
    agent.data.loginPlat = msg.login_plat ?? 0
    agent.send('S2C_UserLogin', recovery === undefined
      ? { ret: 1, msg: 'ok', uid }
      : { ret: 1, msg: 'ok', uid, recovered: recovery.recovered, gate_pos: recovery.pos })
  })

  gate.message('S2C_UserLogin', { schema: M.S2C_UserLogin })

  gate.message('C2S_Message', { schema: M.C2S_Message }, async (msg, agent) => {
    const from = agent.uid!
    const ts = Date.now()
    const toUid = msg.to_uid || undefined
    const room = msg.room || undefined
    if (toUid === undefined && room === undefined) {
      agent.log.debug('C2S_Message with neither to_uid nor room; nothing sent')
      return
    }
    try {
      if (toUid !== undefined) await gate.pushToUids([toUid], 'S2C_Message', { from_uid: from, to_uid: toUid, content: msg.content, ts })
      if (room !== undefined) await gate.pushToRoom(room, 'S2C_Message', { from_uid: from, room, content: msg.content, ts })
    } catch (err) {
      // The schema's limits keep S2C_Message within maxMsgLen (see messages.ts); should a
      // push still not encode (e.g. a smaller maxMsgLen), the sender is told, not the log.
      // So is a uid or room the schema lets through but no one can have (a lone surrogate).
      const code = (err as { code?: string }).code
      if (code !== 'FST_GATE_MESSAGE_TOO_LARGE' && code !== 'FST_GATE_INVALID_UID' && code !== 'FST_GATE_INVALID_ROOM') throw err
      agent.log.debug({ reason: (err as Error).message }, 'C2S_Message not delivered')
      agent.send('S2C_Error', { code: code.slice('FST_GATE_'.length), msg: (err as Error).message })
    }
  })

  // Kept in each receiver's history when sent to a uid, and in the room's history when sent to a room.
  gate.message('S2C_Message', { schema: M.S2C_Message, history, roomHistory: history })

  // leaf's Go clients send a nil room list as `"rooms": null`: it means no rooms.
  gate.message('C2S_UpdateWatchRoom', { schema: Type.Object({ rooms: Type.Union([M.C2S_UpdateWatchRoom.properties.rooms, Type.Null()]) }) }, (msg, agent) => {
    const wanted = new Set(msg.rooms ?? [])
    for (const room of [...agent.rooms]) if (!wanted.has(room)) agent.leave(room)
    for (const room of wanted) {
      try {
        agent.join(room)
      } catch (err) {
        // A name no room can have (a lone surrogate): the answer lists the rooms joined.
        if ((err as { code?: string }).code !== 'FST_GATE_INVALID_ROOM') throw err
      }
    }
    agent.send('S2C_UpdateWatchRoom', { rooms: [...agent.rooms] })
  })

  gate.message('S2C_UpdateWatchRoom', { schema: M.S2C_UpdateWatchRoom })

  // Registered last, so that the protobuf ids of the messages above stay 0..6.
  gate.message('S2C_Error', { schema: M.S2C_Error })
  // Sent just before the gate closes a raw TCP connection (the gate's closeNotice
  // option): TCP has no close codes, so this is how a TCP client tells a kick.
  gate.message('S2C_Close', { schema: M.S2C_Close })
  // A request (docs/protocol.md section 10): who is online. The answer is the handler's return value;
  // a plain C2S_Online gets the same S2C_Online as a plain message.
  gate.message('C2S_Online', { schema: M.C2S_Online, answer: 'S2C_Online' }, async () => {
    const page = await gate.users(0, M.ONLINE_PAGE)
    return { total: page.total, uids: page.items.map(item => item.uid) }
  })
  gate.message('S2C_Online', { schema: M.S2C_Online })
  // MQTT's CONNECT password is a login token too (docs/protocol.md section 7).
  gate.authenticate(async (agent, credentials) => {
    if (credentials.password === undefined) return false
    let uid: string
    try {
      uid = verifyToken(credentials.password.toString('utf8'))
    } catch {
      return false
    }
    await agent.bind(uid)
    return true
  })
}
