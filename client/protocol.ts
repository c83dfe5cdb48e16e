import type { Codec } from './codec.js'
import { GateClientError } from './errors.js'
import { json } from './json.js'
import { protobufCodec } from './protobuf.js'

/** What `GET /gate/protocol` serves (docs/protocol.md section 5), as far as a client needs it. */
export interface GateProtocol {
  encoding: string
  lenMsgLen: 1 | 2 | 4
  littleEndian: boolean
  maxMsgLen: number
  minMsgLen?: number
  messages: Array<{ id: number, name: string, needsLogin?: boolean }>
  /** protobuf mode: the protobufjs JSON descriptor of the messages. */
  schema?: unknown
}

/** Fetches `GET <url>` (e.g. `http://host:3000/gate/protocol`; in a page, `/gate/protocol`). */
export async function fetchProtocol (url: string, init?: RequestInit): Promise<GateProtocol> {
  let res: Response
  try {
    res = await fetch(url, init)
  } catch (err) {
    throw new GateClientError('GATE_CLIENT_PROTOCOL', `GET ${url} failed: ${(err as Error).message}`, { cause: err })
  }
  if (!res.ok) throw new GateClientError('GATE_CLIENT_PROTOCOL', `GET ${url} answered ${res.status}`)
  return await res.json() as GateProtocol
}

/** The codec the gate speaks: JSON, or protobuf with the served id table and schema. */
export function codecFor (protocol: GateProtocol): Codec {
  if (protocol.encoding === 'json') return json()
  if (protocol.encoding === 'protobuf') {
    if (protocol.schema === undefined) throw new GateClientError('GATE_CLIENT_PROTOCOL', 'protobuf mode, but the protocol has no schema')
    return protobufCodec({
      root: protocol.schema as object,
      ids: Object.fromEntries(protocol.messages.map(m => [m.name, m.id])),
      littleEndian: protocol.littleEndian
    })
  }
  throw new GateClientError('GATE_CLIENT_PROTOCOL', `the gate's encoding "${protocol.encoding}" has no client codec`)
}

/** `fetchProtocol` then `codecFor`. */
export async function loadCodec (url: string, init?: RequestInit): Promise<Codec> {
  return codecFor(await fetchProtocol(url, init))
}
