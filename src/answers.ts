import { Type, type Static } from '@sinclair/typebox'

/**
 * The answers of the gate's cluster-wide operations, as TypeBox schemas. They are
 * the one source of both the TypeScript types (`Static<>`, below) and the admin
 * API's response schemas (routes/admin), so the two cannot drift apart.
 */

/**
 * Set on a cluster answer when some node did not answer in time, or the cluster
 * store was unreachable and only this node's part is included.
 */
export const clusterFields = {
  partial: Type.Optional(Type.Boolean({ description: 'true when some node\'s part is missing' })),
  missingNodes: Type.Optional(Type.Array(Type.String(), { description: 'ids of the nodes whose part is missing' }))
}
export const ClusterAnswer = Type.Object(clusterFields)
export type ClusterAnswer = Static<typeof ClusterAnswer>

const Count = Type.Integer({ minimum: 0 })

/** `{ delivered }`: connections written, over every node that answered. */
export const Delivery = Type.Object({
  delivered: Type.Integer({ minimum: 0, description: 'connections written, over every node that answered' }),
  stored: Type.Optional(Type.Integer({ minimum: 0, description: 'uids whose history kept the message (only for messages with history); a room push: 1 when the room\'s history kept it (only for messages with roomHistory)' })),
  ...clusterFields
})
export type Delivery = Static<typeof Delivery>

/** `{ kicked }`: connections closed, over every node that answered. */
export const KickResult = Type.Object({
  kicked: Type.Integer({ minimum: 0, description: 'connections closed, over every node that answered' }),
  ...clusterFields
})
export type KickResult = Static<typeof KickResult>

/** `{ updated }`: connections whose settings were updated, over every node that answered. */
export const SettingsResult = Type.Object({
  updated: Type.Integer({ minimum: 0, description: 'connections of the uid whose settings were updated, over every node that answered' }),
  ...clusterFields
})
export type SettingsResult = Static<typeof SettingsResult>

/** Cluster-wide counts (`GET /gate/stats`). */
export const GateStats = Type.Object({
  onlineUsers: Type.Integer({ minimum: 0, description: 'distinct bound uids; a uid online on two nodes counts once' }),
  connections: Type.Integer({ minimum: 0, description: 'every open connection, logged in or not' }),
  nodes: Type.Integer({ minimum: 0, description: 'live nodes' }),
  transports: Type.Object({ ws: Count, tcp: Count }),
  protocols: Type.Record(Type.String(), Count, { description: 'open connections by protocol: leaf, mqtt, and each protocol of the application' }),
  node: Type.String({ description: 'the id of the node that answered' }),
  mode: Type.Union([Type.Literal('local'), Type.Literal('cluster')]),
  ...clusterFields
}, { additionalProperties: true })
export type GateStats = Static<typeof GateStats>

/** One page of online uids (`GET /gate/users`), in a stable order. */
export const UsersPage = Type.Object({
  total: Type.Integer({ minimum: 0, description: 'online uids' }),
  offset: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  items: Type.Array(Type.Object({ uid: Type.String(), connections: Type.Integer({ minimum: 0 }) })),
  ...clusterFields
})
export type UsersPage = Static<typeof UsersPage>

/** One connection as presence reports it. */
export const ConnectionInfo = Type.Object({
  id: Type.String({ description: 'agent id, usable in POST /kick { agents }' }),
  node: Type.String(),
  transport: Type.Union([Type.Literal('ws'), Type.Literal('tcp')]),
  protocol: Type.String({ description: 'what the bytes say: leaf, mqtt, or the name of an application protocol' }),
  remoteAddress: Type.String(),
  connectedAt: Type.String({ format: 'date-time', description: 'ISO 8601' }),
  settings: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'the connection\'s session settings, when it has any' })),
  rooms: Type.Optional(Type.Array(Type.String(), { description: 'the rooms the connection is in, when it is in any' }))
})
export type ConnectionInfo = Static<typeof ConnectionInfo>

/** One uid's connections on every node (`GET /gate/users/:uid`). */
export const UserConnections = Type.Object({
  uid: Type.String(),
  connections: Type.Array(ConnectionInfo),
  ...clusterFields
})
export type UserConnections = Static<typeof UserConnections>

/** One page of rooms with members (`GET /gate/rooms`), in a stable order. */
export const RoomsPage = Type.Object({
  total: Type.Integer({ minimum: 0, description: 'rooms with at least one member' }),
  offset: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  items: Type.Array(Type.Object({
    room: Type.String(),
    connections: Type.Integer({ minimum: 1, description: 'member connections, over every node' }),
    uids: Type.Integer({ minimum: 0, description: 'distinct logged-in uids among them' })
  })),
  ...clusterFields
})
export type RoomsPage = Static<typeof RoomsPage>

/** One member connection of a room. */
export const RoomMember = Type.Object({
  uid: Type.Optional(Type.String({ description: 'absent while the connection is not logged in' })),
  id: Type.String({ description: 'agent id, usable in POST /kick { agents }' }),
  node: Type.String(),
  transport: Type.Union([Type.Literal('ws'), Type.Literal('tcp')]),
  protocol: Type.String()
})
export type RoomMember = Static<typeof RoomMember>

/** A page of one room's member connections (`GET /gate/rooms/:room`), ordered by connection id. */
export const RoomMembers = Type.Object({
  room: Type.String(),
  total: Type.Integer({ minimum: 1, description: 'member connections, over every node' }),
  offset: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  items: Type.Array(RoomMember),
  ...clusterFields
})
export type RoomMembers = Static<typeof RoomMembers>

/** Framing, encoding and the id table (`GET /gate/protocol`). */
export const ProtocolInfo = Type.Object({
  encoding: Type.String({ description: '"json", "protobuf" or a custom processor\'s name' }),
  lenMsgLen: Type.Integer({ description: 'bytes of the TCP length prefix: 1, 2 or 4' }),
  littleEndian: Type.Boolean(),
  maxMsgLen: Type.Integer(),
  minMsgLen: Type.Integer(),
  messages: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), needsLogin: Type.Boolean() })),
  schema: Type.Optional(Type.Unknown({ description: 'protobuf mode: the protobufjs JSON descriptor of the messages' }))
}, { additionalProperties: true })
export type ProtocolInfo = Static<typeof ProtocolInfo>

/** The message and byte counters of a uid's connections on the answering node (`GET /gate/users/:uid/counters`, the dashboard's). */
export const UserCounters = Type.Object({
  uid: Type.String(),
  node: Type.String({ description: 'the node that answered: only its connections are listed' }),
  connections: Type.Array(Type.Object({
    id: Type.String(),
    msgsIn: Count,
    msgsOut: Count,
    bytesIn: Count,
    bytesOut: Count,
    lastSeen: Type.String({ format: 'date-time', description: 'when bytes last arrived' })
  }))
})
export type UserCounters = Static<typeof UserCounters>

/** The registered messages (`GET /gate/messages`, the dashboard's). */
export const MessageList = Type.Object({
  messages: Type.Array(Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    needsLogin: Type.Boolean(),
    handled: Type.Boolean({ description: 'a handler runs when a client sends it; without one, only the server sends it (the dashboard\'s push targets)' }),
    schema: Type.Optional(Type.Unknown({ description: 'the JSON Schema of the body, when the message has one' }))
  }))
})
export type MessageList = Static<typeof MessageList>
