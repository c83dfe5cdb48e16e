import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { GateStats } from '../../src/answers.js'
import { adminSchema, errors } from './schemas.js'

/** `GET /stats`: cluster-wide counts. */
const stats: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/stats', {
    schema: adminSchema('getStats', 'Online users, connections and nodes, cluster-wide', {
      response: { 200: GateStats, ...errors(401, 503) }
    })
  }, async () => await app.gate.stats())
}

export default stats
