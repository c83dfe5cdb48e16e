import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { KickResult } from '../../src/answers.js'
import { AgentId, MAX_TARGETS, Uids, adminSchema, errors } from './schemas.js'

const KickBody = Type.Object({
  uids: Type.Optional(Uids),
  agents: Type.Optional(Type.Array(AgentId, { maxItems: MAX_TARGETS, description: 'agent ids, as GET /users/:uid lists them' })),
  reason: Type.Optional(Type.String({ maxLength: 1024, description: 'the WebSocket close reason (cut to 123 bytes); default "kicked"' }))
}, { additionalProperties: false, anyOf: [{ required: ['uids'] }, { required: ['agents'] }] })

/** `POST /kick`: closes connections with 4001 and the reason. */
const kick: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/kick', {
    schema: adminSchema('kick', 'Close connections of uids and/or agent ids with 4001 and a reason', {
      body: KickBody,
      response: { 200: KickResult, ...errors(400, 401, 503) }
    })
  }, async (request) => {
    const { uids, agents, reason } = request.body
    return await app.gate.kick({ uids, agents }, reason)
  })
}

export default kick
