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

export const badEnvelope = (message: string): ProtocolError =>
  new ProtocolError('GATE_BAD_ENVELOPE', CloseCode.PROTOCOL_ERROR, message)

export const badBody = (message: string): ProtocolError =>
  new ProtocolError('GATE_BAD_BODY', CloseCode.INVALID_PAYLOAD, message)

/** A frame, packet or message over the size limit (1009), whatever the protocol. */
export const tooLong = (message: string): ProtocolError =>
  new ProtocolError('GATE_FRAME_TOO_LONG', CloseCode.MESSAGE_TOO_BIG, message)
