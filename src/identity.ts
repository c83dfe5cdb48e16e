/**
 * What a uid or a room name may be, the same on every protocol, in the core and
 * in the admin API: 1-100 UTF-16 code units (Fastify's default `maxParamLength`,
 * so that `GET /gate/users/:uid` and `/gate/rooms/:room` can address every one),
 * well-formed Unicode (no lone surrogate: it would become U+FFFD in a Redis key
 * or a UTF-8 log line, and collide with another name), and neither `.` nor `..`
 * (URL clients resolve them as path segments, so no admin path could name them).
 */
export const MAX_NAME_LENGTH = 100

const LONE_SURROGATE = /\p{Surrogate}/u

/** Whether `value` may be a uid or a room name. */
export function isName (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH &&
    value !== '.' && value !== '..' && !LONE_SURROGATE.test(value)
}

/**
 * Whether `value` may be a uid: a name (`isName`) that does not start with NUL.
 * Keys of the gate's own that live beside the uids' in the history and
 * session stores start with NUL (a room's stream `"\0room\0<room>"`, an MQTT
 * session `"\0mqtt\0<client id>"`), so no uid can collide with them.
 */
export function isUid (value: unknown): value is string {
  return isName(value) && value.charCodeAt(0) !== 0
}
