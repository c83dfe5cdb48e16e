/**
 * The fastify-gate client SDK (`fastify-gate/client`), for browsers and Node.
 * This entry imports no Node built-in; raw TCP is `fastify-gate/client/tcp`.
 * See docs/client.md.
 */
export { backoffCeiling, backoffDelay, retryDelay, STOP_CODES, type ReconnectOptions } from './backoff.js'
export { GateClient, createClient, type ClientOptions, type ClientState, type HeartbeatOptions, type LoginHook, type LoginResult, type RequestOptions, type Session, type SessionHook } from './client.js'
export type { ClientMessage, Codec } from './codec.js'
export { GateClientError, LoginRefused, type GateClientErrorCode } from './errors.js'
export { json } from './json.js'
export { advance as advancePosition, type PositionStore, type ResumeInfo, type ResumeOptions, type RoomResumeInfo } from './position.js'
export { protobufCodec, type ProtobufCodecOptions } from './protobuf.js'
export { codecFor, fetchProtocol, loadCodec, type GateProtocol } from './protocol.js'
export { ABNORMAL_CLOSE, type Payload, type Transport, type TransportConnection, type TransportHandlers } from './transport.js'
export { webSocket, type WebSocketConstructor, type WebSocketLike, type WebSocketTransportOptions } from './ws.js'
export { CloseCode } from '../src/close-codes.js'
export type { AnyMessages, MessageBodies, MessageName } from '../src/message-map.js'
