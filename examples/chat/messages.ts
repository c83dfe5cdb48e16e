import { Type } from '@sinclair/typebox'

/** The example's messages, in the order of chat.proto (their default protobuf ids 0..6). */
const Uid = Type.String({ minLength: 1, maxLength: 256 })
const Room = Type.String({ minLength: 1, maxLength: 256 })

export const C2S_UserHeartBeat = Type.Object({ ptime: Type.Optional(Type.Number()) })
export const C2S_UserLogin = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  login_plat: Type.Optional(Type.Integer())
})
export const S2C_UserLogin = Type.Object({ ret: Type.Integer(), msg: Type.String(), uid: Type.String() })
export const C2S_Message = Type.Object({
  // protobuf has no "absent" for strings: an empty string means not given
  to_uid: Type.Optional(Type.Union([Uid, Type.Literal('')])),
  room: Type.Optional(Type.Union([Room, Type.Literal('')])),
  content: Type.String({ maxLength: 3000 })
})
export const S2C_Message = Type.Object({
  from_uid: Type.String(),
  to_uid: Type.Optional(Type.String()),
  room: Type.Optional(Type.String()),
  content: Type.String(),
  ts: Type.Number()
})
export const C2S_UpdateWatchRoom = Type.Object({ rooms: Type.Array(Room, { maxItems: 64 }) })
export const S2C_UpdateWatchRoom = Type.Object({ rooms: Type.Array(Type.String()) })
