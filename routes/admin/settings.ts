import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SettingsResult } from '../../src/answers.js'
import { adminSchema, errors, Uid } from './schemas.js'

const SettingsBody = Type.Object({
  set: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 1024 }), Type.String({ maxLength: 65536 }), { description: 'keys to set, to these values' })),
  remove: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 1024, description: 'keys to remove (before `set`)' }))
}, { additionalProperties: false })

/** `POST /users/:uid/settings`: sets and removes session settings of every connection of a uid, on every node (mqant's settings push). */
const settings: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/users/:uid/settings', {
    schema: adminSchema('updateUserSettings', 'Set and remove session settings of every connection of a uid, on every node', {
      params: Type.Object({ uid: Uid }),
      body: SettingsBody,
      response: { 200: SettingsResult, ...errors(400, 401, 503) }
    })
  }, async (request) => await app.gate.updateSettings(request.params.uid, request.body.set, request.body.remove))
}

export default settings
