import { CloseCode } from './close-codes.js'

/**
 * Bad input from a client. It never escapes to the application: the connection
 * that sent it is closed with `closeCode`, and `code` is logged.
 */
export class ProtocolError extends Error {
  readonly code: string
  readonly closeCode: number

  constructor (code: string, closeCode: number, message: string) {
    super(message)
    this.name = 'ProtocolError'
    this.code = code
    this.closeCode = closeCode
  }
}

/**
 * Every code of the gate's own ProtocolErrors, with the close code it closes
 * the connection with. The same table is in docs/guide.md ("Bad input").
 */
export const PROTOCOL_ERRORS = {
  /** Not a message: bad envelope, unregistered name or id, a packet out of place. */
  GATE_BAD_ENVELOPE: CloseCode.PROTOCOL_ERROR,
  /** The body does not decode, or is not an object. */
  GATE_BAD_BODY: CloseCode.INVALID_PAYLOAD,
  /** A frame, packet or message over the size limit, whatever the protocol. */
  GATE_FRAME_TOO_LONG: CloseCode.MESSAGE_TOO_BIG,
  /** A leaf TCP frame under `minMsgLen`. */
  GATE_FRAME_TOO_SHORT: CloseCode.PROTOCOL_ERROR,
  /** A message that needs login, before login. */
  GATE_LOGIN_REQUIRED: CloseCode.UNAUTHORIZED,
  /** Bytes mqtt-packet cannot parse. */
  GATE_MQTT_MALFORMED: CloseCode.PROTOCOL_ERROR,
  /** Too many packets before the CONNACK. */
  GATE_MQTT_FLOOD: CloseCode.POLICY_VIOLATION,
  /** The authentication of a CONNECT failed with an error of the gate's own (an authenticator that throws is a refusal instead). */
  GATE_MQTT_AUTH: CloseCode.UNAUTHORIZED,
  /** More QoS 2 PUBLISHes received and not released (PUBREL) than `mqtt.maxInflight`. */
  GATE_MQTT_INFLIGHT: CloseCode.POLICY_VIOLATION
} as const

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS

/** One of the gate's ProtocolErrors, with the close code of its code. */
export const protocolError = (code: ProtocolErrorCode, message: string): ProtocolError =>
  new ProtocolError(code, PROTOCOL_ERRORS[code], message)

export const badEnvelope = (message: string): ProtocolError => protocolError('GATE_BAD_ENVELOPE', message)

export const badBody = (message: string): ProtocolError => protocolError('GATE_BAD_BODY', message)

/** A frame, packet or message over the size limit (1009), whatever the protocol. */
export const tooLong = (message: string): ProtocolError => protocolError('GATE_FRAME_TOO_LONG', message)
