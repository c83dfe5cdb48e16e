import { Type } from '@sinclair/typebox'
import { CONTROL_NAMES } from './names.js'
import { MAX_POSITION_LENGTH } from '../history/history.js'

export { CONTROL_NAMES } from './names.js'

/**
 * The client control messages (docs/protocol.md section 10): what an SDK sends
 * to subscribe, unsubscribe and ask a request over leaf, and the gate's reply.
 * Registered only with the `clientControl` option, after the application's own
 * messages, so that their ids (protobuf) come after every id the application
 * had: a leaf client that never sends them sees not one byte change.
 */

/** A request or subscription id: chosen by the client, echoed by the reply. */
const Id = Type.Integer({ minimum: 0, maximum: 0xffffffff })

/** The bodies, in JSON; the room is checked by the gate (`INVALID_ROOM`), not by the schema, so a bad name is a refusal, not a close. */
export const controlSchemas = {
  /** `since`: the room position the client last saw (`''`: none yet); asks for positions and the missed messages. */
  [CONTROL_NAMES.subscribe]: Type.Object({ id: Id, room: Type.String({ maxLength: 1024 }), since: Type.Optional(Type.String({ maxLength: MAX_POSITION_LENGTH })) }),
  [CONTROL_NAMES.unsubscribe]: Type.Object({ id: Id, room: Type.String({ maxLength: 1024 }) }),
  [CONTROL_NAMES.request]: Type.Object({ id: Id }),
  /** `recovered`, `pos`: only in the reply to a subscribe with `since`. */
  [CONTROL_NAMES.reply]: Type.Object({ id: Id, code: Type.String(), answer: Type.Optional(Type.Boolean()), recovered: Type.Optional(Type.Boolean()), pos: Type.Optional(Type.String()) })
}

/**
 * The same messages as protobuf types (protobufjs JSON descriptors), added to
 * the application's Root when it does not declare them:
 *
 *     message Gate_Subscribe { uint32 id = 1; string room = 2; oneof resume { string since = 3; } }
 *     message Gate_Unsubscribe { uint32 id = 1; string room = 2; }
 *     message Gate_Request { uint32 id = 1; }
 *     message Gate_Reply { uint32 id = 1; string code = 2; bool answer = 3;
 *                          oneof recovery { bool recovered = 4; } oneof position { string pos = 5; } }
 *
 * (A one-field oneof is proto3's `optional`: absent stays absent, so `since`
 * absent and `since: ""` differ, and a reply without them is the bytes it was.)
 */
export const controlTypes: Record<string, { fields: Record<string, { type: string, id: number }>, oneofs?: Record<string, { oneof: string[] }> }> = {
  [CONTROL_NAMES.subscribe]: { fields: { id: { type: 'uint32', id: 1 }, room: { type: 'string', id: 2 }, since: { type: 'string', id: 3 } }, oneofs: { resume: { oneof: ['since'] } } },
  [CONTROL_NAMES.unsubscribe]: { fields: { id: { type: 'uint32', id: 1 }, room: { type: 'string', id: 2 } } },
  [CONTROL_NAMES.request]: { fields: { id: { type: 'uint32', id: 1 } } },
  [CONTROL_NAMES.reply]: {
    fields: { id: { type: 'uint32', id: 1 }, code: { type: 'string', id: 2 }, answer: { type: 'bool', id: 3 }, recovered: { type: 'bool', id: 4 }, pos: { type: 'string', id: 5 } },
    oneofs: { recovery: { oneof: ['recovered'] }, position: { oneof: ['pos'] } }
  }
}

/**
 * The codes of `Gate_Reply` (and of an MQTT request's error topic); `''` is
 * success. A handler's own coded error gives its `code` instead.
 */
export const ReplyCode = {
  OK: '',
  /** `canJoin` said no (or threw). */
  NOT_ALLOWED: 'NOT_ALLOWED',
  /** The connection is in `maxRooms` rooms already. */
  ROOM_LIMIT: 'ROOM_LIMIT',
  /** Not a name a room can have (src/identity.ts). */
  INVALID_ROOM: 'INVALID_ROOM',
  /** A subscribe before login, on a gate with a login message. */
  LOGIN_REQUIRED: 'LOGIN_REQUIRED',
  /** The requested message has no handler. */
  UNKNOWN: 'UNKNOWN',
  /** The handler threw an error without a code. */
  FAILED: 'FAILED'
} as const
