import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminSchema, errors, Uid } from './schemas.js'

const Count = Type.Integer({ minimum: 0 })

const CountersAnswer = Type.Object({
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

/**
 * `GET /users/:uid/counters`: the message and byte counters of the uid's
 * connections on the answering node (counters are not kept in the cluster
 * store; `GET /users/:uid` lists the connections of every node).
 */
const counters: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users/:uid/counters', {
    schema: adminSchema('getUserCounters', 'Counters of one uid\'s connections on the answering node', {
      params: Type.Object({ uid: Uid }),
      response: { 200: CountersAnswer, ...errors(400, 401) }
    })
  }, async (request) => ({
    uid: request.params.uid,
    node: app.gate.nodeId,
    connections: [...app.gate.agentsOf(request.params.uid)].map(a => ({
      id: a.id,
      msgsIn: a.msgsIn,
      msgsOut: a.msgsOut,
      bytesIn: a.bytesIn,
      bytesOut: a.bytesOut,
      lastSeen: new Date(a.lastSeen).toISOString()
    }))
  }))
}

export default counters
