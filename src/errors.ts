import createError from '@fastify/error'

/**
 * Every error the gate raises, with a stable `code`. HTTP-facing errors carry the
 * status the admin API answers with. The list is repeated in docs/guide.md (its error table).
 */
export const GateError = {
  INVALID_OPTION: createError('FST_GATE_INVALID_OPTION', 'Invalid gate option "%s": %s', 500),
  ALREADY_REGISTERED: createError('FST_GATE_ALREADY_REGISTERED', 'fastify-gate is already registered on this instance', 500),
  DUPLICATE_MESSAGE: createError('FST_GATE_DUPLICATE_MESSAGE', 'Message "%s" is already registered', 500),
  INVALID_MESSAGE: createError('FST_GATE_INVALID_MESSAGE', 'Cannot register message "%s": %s', 500),
  REGISTRY_FROZEN: createError('FST_GATE_REGISTRY_FROZEN', 'Cannot register message "%s" after the gate is ready', 500),
  UNKNOWN_MESSAGE: createError('FST_GATE_UNKNOWN_MESSAGE', 'Message "%s" is not registered', 400),
  INVALID_BODY: createError('FST_GATE_INVALID_BODY', 'Body of message "%s" is invalid: %s', 400),
  MESSAGE_TOO_LARGE: createError('FST_GATE_MESSAGE_TOO_LARGE', 'Message "%s" encodes to %d bytes, over maxMsgLen %d', 400),
  UID_IN_USE: createError('FST_GATE_UID_IN_USE', 'uid "%s" is already logged in and the multiLogin policy is "reject"', 409),
  ROOM_LIMIT: createError('FST_GATE_ROOM_LIMIT', 'A connection may be in at most %d rooms', 400),
  INVALID_UID: createError('FST_GATE_INVALID_UID', 'uid must be a well-formed string of 1 to 100 characters, not "." or "..", not starting with NUL', 400),
  INVALID_ROOM: createError('FST_GATE_INVALID_ROOM', 'room must be a well-formed string of 1 to 100 characters, not "." or ".."', 400),
  NOT_CONNECTED: createError('FST_GATE_NOT_CONNECTED', 'Connection %s is closed', 409),
  USER_OFFLINE: createError('FST_GATE_USER_OFFLINE', 'uid "%s" is not online', 404),
  ROOM_EMPTY: createError('FST_GATE_ROOM_EMPTY', 'room "%s" has no member', 404),
  UNAUTHORIZED: createError('FST_GATE_UNAUTHORIZED', 'Missing or invalid admin token', 401),
  INVALID_SETTING: createError('FST_GATE_INVALID_SETTING', 'Invalid session setting: %s', 400),
  NO_HISTORY: createError('FST_GATE_NO_HISTORY', 'No message is registered with history', 404),
  CLUSTER_UNAVAILABLE: createError('FST_GATE_CLUSTER_UNAVAILABLE', 'The cluster store is unreachable: %s', 503),
  REDIS_VERSION: createError('FST_GATE_REDIS_VERSION', 'Redis %s is too old: the cluster mode needs Redis 7 or newer (sharded pub/sub)', 500),
  /** WebSocket upgrades refused before they happen (docs/limits.md; the subprotocol: docs/protocol.md section 7). */
  FULL: createError('FST_GATE_FULL', 'The gateway is full or shutting down', 503),
  IP_LIMIT: createError('FST_GATE_IP_LIMIT', 'Too many connections from this address', 503),
  IP_RATE: createError('FST_GATE_IP_RATE', 'Too many new connections from this address; retry later', 429),
  SUBPROTOCOL: createError('FST_GATE_SUBPROTOCOL', 'The upgrade must offer a WebSocket subprotocol of this path in Sec-WebSocket-Protocol: %s', 400)
} as const
