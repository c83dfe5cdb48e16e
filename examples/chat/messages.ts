import { Type } from '@sinclair/typebox'

/**
 * The example's messages, in the order of chat.proto (their default protobuf
 * ids 0..8; S2C_Error and S2C_Close came last, so the ids of the others did not move).
 *
 * Limits are in UTF-16 code units, what a TypeBox `maxLength` counts, and are
 * chosen so that every message the example sends fits `maxMsgLen` in bytes.
 */

/** The example keeps the plugin's default `maxMsgLen` (docs/protocol.md section 6). */
export const MAX_MSG_LEN = 4096
/** uids (a login token's `sub`) and room names. */
export const UID_MAX_LENGTH = 64
export const ROOM_MAX_LENGTH = 64
/**
 * The content limit of `C2S_Message`, such that the `S2C_Message` it becomes
 * always encodes within `MAX_MSG_LEN`. In JSON, the larger of the two encodings.
 * To a uid:
 *
 *     {"S2C_Message":{"from_uid":"F","to_uid":"T","content":"C","ts":N}}
 *
 * is 75 bytes besides F, T and C (N is 13 digits of unix ms until the year
 * 2286). A message kept in history may carry its position as well,
 * `,"gate_pos":"<up to 32 characters>"`: 46 bytes the gate reserves
 * (`History.reserve`), whether or not the receiver asked for positions. To a room:
 *
 *     {"S2C_Message":{"from_uid":"F","room":"R","content":"C","ts":N}}
 *
 * is 73 bytes besides F, R and C, and a message kept in the room's history
 * may carry the room as well, `,"gate_room":"R"`: 15 bytes besides R, which the
 * gate reserves on top of the 46 (`RoomHistory.reserve`). One code unit takes at most 6 bytes in JSON (a control
 * character or a lone surrogate is escaped as `\uXXXX`; any other character is
 * at most 3 bytes of UTF-8, a 4-byte code point being two units) and at most
 * 3 in protobuf (plus a tag and a 1-2 byte length per field, and a 2-byte id,
 * well under the 73). So, the room being the tighter case,
 *
 *     75 + 46 + 6 × (64 + 64 + content) ≤ 4096        ⇒   content ≤ 534
 *     73 + 46 + 15 + 6 × (64 + 2 × 64 + content) ≤ 4096   ⇒   content ≤ ⌊3962 / 6⌋ − 192 = 468
 *
 * The other answers fit without a limit of their own: `S2C_UpdateWatchRoom`
 * repeats the rooms of the request, whose name is as long, in the same
 * encoding, and an encoder writes each string in its shortest form.
 */
/** Bytes the gate reserves in a message kept in history for its position (`,"gate_pos":"…"`). */
export const POSITION_RESERVE = 46
/** Bytes the gate reserves in a room message kept in the room's history for `,"gate_room":""`, besides the room itself. */
export const ROOM_POSITION_RESERVE = 15
export const CONTENT_MAX_LENGTH = Math.min(
  Math.floor((MAX_MSG_LEN - 75 - POSITION_RESERVE) / 6) - UID_MAX_LENGTH - UID_MAX_LENGTH,
  Math.floor((MAX_MSG_LEN - 73 - POSITION_RESERVE - ROOM_POSITION_RESERVE) / 6) - UID_MAX_LENGTH - 2 * ROOM_MAX_LENGTH
)

const Uid = Type.String({ minLength: 1, maxLength: UID_MAX_LENGTH })
const Room = Type.String({ minLength: 1, maxLength: ROOM_MAX_LENGTH })

export const C2S_UserHeartBeat = Type.Object({ ptime: Type.Optional(Type.Number()) })
/** A position token, `"<epoch>:<offset>"` (docs/protocol.md section 8). */
const Position = Type.String({ maxLength: 64 })
export const C2S_UserLogin = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  login_plat: Type.Optional(Type.Integer()),
  /** The last `gate_pos` the client saw, or "" on its first login: it asks for positions and for what it missed. */
  resume_pos: Type.Optional(Position)
})
/** `recovered` and `gate_pos` only when the login gave `resume_pos`. */
export const S2C_UserLogin = Type.Object({
  ret: Type.Integer(),
  msg: Type.String(),
  uid: Type.String(),
  recovered: Type.Optional(Type.Boolean()),
  gate_pos: Type.Optional(Position)
})
export const C2S_Message = Type.Object({
  // protobuf has no "absent" for strings: an empty string means not given
  to_uid: Type.Optional(Type.Union([Uid, Type.Literal('')])),
  room: Type.Optional(Type.Union([Room, Type.Literal('')])),
  content: Type.String({ maxLength: CONTENT_MAX_LENGTH })
})
export const S2C_Message = Type.Object({
  from_uid: Type.String(),
  to_uid: Type.Optional(Type.String()),
  room: Type.Optional(Type.String()),
  content: Type.String(),
  ts: Type.Number(),
  /**
   * Set by the gate: for clients that gave `resume_pos` at login, on messages sent to a uid;
   * for clients that subscribed to the room with `since`, on messages sent to a room (with `gate_room`).
   */
  gate_pos: Type.Optional(Position),
  /** Set by the gate with `gate_pos` on a room message, for clients that subscribed to the room with `since`: whose position it is. */
  gate_room: Type.Optional(Type.String())
})
export const C2S_UpdateWatchRoom = Type.Object({ rooms: Type.Array(Room, { maxItems: 64 }) })
export const S2C_UpdateWatchRoom = Type.Object({ rooms: Type.Array(Type.String()) })
/** An error answer to a request that was understood but could not be carried out; the connection stays open. */
export const S2C_Error = Type.Object({ code: Type.String(), msg: Type.String() })
/** The close code and reason, before the gate closes a raw TCP connection. */
export const S2C_Close = Type.Object({ code: Type.Integer({ minimum: 0, maximum: 65535 }), reason: Type.String() })
/** A request: who is online. */
export const C2S_Online = Type.Object({})
/** The answer: the total and the first `ONLINE_PAGE` uids. */
export const S2C_Online = Type.Object({ total: Type.Integer(), uids: Type.Array(Type.String()) })
/**
 * uids in one `S2C_Online`: at most 64 code units each, 6 bytes in the worst
 * case plus 3 of quotes and comma, so 10 of them fit `MAX_MSG_LEN` with room to spare.
 */
export const ONLINE_PAGE = 10
/** A room `private:<uid>` may be subscribed to by that uid alone (the example's `canJoin`). */
export const PRIVATE_ROOM = 'private:'
