import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LATENCY_BOUNDS } from '../../src/figures/histogram.js'
import { FiguresAnswer } from '../../src/figures/schema.js'
import { totalFigures } from '../../src/figures/total.js'
import { adminSchema, errors } from './schemas.js'

/**
 * `GET /figures`: the dashboard's one poll. Cluster-wide counts (as `GET /stats`),
 * and every node's live figures (message rates, handler latency, closes by code)
 * with their total. Its cost depends on the number of nodes, never on the
 * number of connections.
 */
const figures: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/figures', {
    schema: adminSchema('getFigures', 'Live figures of every node and their total: rates, latency percentiles, closes by code', {
      response: { 200: FiguresAnswer, ...errors(401, 503) }
    })
  }, async () => {
    const [stats, cluster] = await Promise.all([app.gate.stats(), app.gate.figures()])
    const missing = [...new Set([...(stats.missingNodes ?? []), ...(cluster.missingNodes ?? [])])].sort()
    const answer: FiguresAnswer = { stats, latencyBounds: [...LATENCY_BOUNDS], total: totalFigures(cluster.nodes), nodes: cluster.nodes }
    if (stats.partial === true || cluster.partial === true) Object.assign(answer, { partial: true, missingNodes: missing })
    return answer
  })
}

export default figures
