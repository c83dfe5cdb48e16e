import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { UserCounters } from '../../src/answers.js'
import { adminSchema, errors, Uid } from './schemas.js'

/**
 * `GET /users/:uid/counters`: the message and byte counters of the uid's
 * connections on the answering node (counters are not kept in the cluster
 * store; `GET /users/:uid` lists the connections of every node).
 */
const counters: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users/:uid/counters', {
    schema: adminSchema('getUserCounters', 'Counters of one uid\'s connections on the answering node', {
      params: Type.Object({ uid: Uid }),
      response: { 200: UserCounters, ...errors(400, 401) }
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
