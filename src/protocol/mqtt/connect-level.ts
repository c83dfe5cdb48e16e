/**
 * The protocol level of a CONNECT, read from its bytes before mqtt-packet
 * parses it: mqtt-packet fails on levels other than 3, 4 and 5 (MQTT 6 and
 * later), and the gate must still answer those with CONNACK 1.
 *
 *     | 0x10 | remaining length : 1-4 | name length : 2 | name | level : 1 | flags ...
 *
 * `undefined` when the packet is not a CONNECT, or its protocol name is neither
 * `MQTT` (3.1.1 and later) nor `MQIsdp` (3.1): mqtt-packet reports those (1002).
 * The bridge bit (0x80, mosquitto's bridges) is masked off, as mqtt-packet does.
 */
export function connectLevel (packet: Buffer): number | undefined {
  if (packet.length < 2 || packet[0] !== 0x10) return undefined
  let at = 1
  while (at < 5 && at < packet.length && (packet[at]! & 0x80) !== 0) at++
  at++
  if (at + 2 > packet.length) return undefined
  const nameLength = packet.readUInt16BE(at)
  const name = packet.toString('latin1', at + 2, at + 2 + nameLength)
  if (name !== 'MQTT' && name !== 'MQIsdp') return undefined
  const level = packet[at + 2 + nameLength]
  return level === undefined ? undefined : level & 0x7f
}
