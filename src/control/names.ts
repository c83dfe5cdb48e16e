/**
 * The names of the client control messages (docs/protocol.md section 10), in a
 * file of their own that imports nothing, so that the client SDK's bundle
 * takes only these strings.
 */
export const CONTROL_NAMES = {
  subscribe: 'Gate_Subscribe',
  unsubscribe: 'Gate_Unsubscribe',
  request: 'Gate_Request',
  reply: 'Gate_Reply'
} as const
