import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminSchema, clusterFields, errors } from './schemas.js'

const Count = Type.Integer({ minimum: 0 })

/** `GET /stats`: cluster-wide counts. */
export const StatsAnswer = Type.Object({
  onlineUsers: Type.Integer({ minimum: 0, description: 'distinct bound uids; a uid online on two nodes counts once' }),
  connections: Type.Integer({ minimum: 0, description: 'every open connection, logged in or not' }),
  nodes: Type.Integer({ minimum: 0, description: 'live nodes' }),
  transports: Type.Object({ ws: Count, tcp: Count }),
  node: Type.String({ description: 'the id of the node that answered' }),
  mode: Type.Union([Type.Literal('local'), Type.Literal('cluster')]),
  ...clusterFields
}, { additionalProperties: true })

const stats: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/stats', {
    schema: adminSchema('getStats', 'Online users, connections and nodes, cluster-wide', {
      response: { 200: StatsAnswer, ...errors(401, 503) }
    })
  }, async () => await app.gate.stats())
}

export default stats
