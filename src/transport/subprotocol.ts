/**
 * WebSocket subprotocols (RFC 6455 section 4.1): the names a client offers in
 * `Sec-WebSocket-Protocol`, and the one the server selects from them.
 *
 *     Sec-WebSocket-Protocol: foo, mqtt    -> offers ['foo', 'mqtt']
 */

/** An HTTP token (RFC 9110 section 5.6.2), what a subprotocol name is. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Whether `name` can be a subprotocol (a token), so a client can ever offer it. */
export function isSubprotocolName (name: string): boolean {
  return TOKEN.test(name)
}

/**
 * The subprotocols a client offers, in its order: the header's comma-separated
 * names, trimmed. Node joins repeated headers with `, `. A malformed header is
 * not judged here: ws answers it with 400 at the upgrade.
 */
export function offeredSubprotocols (header: string | undefined): string[] {
  if (header === undefined) return []
  return header.split(',').map(name => name.trim()).filter(name => name !== '')
}

/** The first of the client's offers that `speaks` contains (the client's preference wins), or undefined. */
export function selectSubprotocol (offers: Iterable<string>, speaks: readonly string[]): string | undefined {
  for (const offer of offers) if (speaks.includes(offer)) return offer
  return undefined
}
