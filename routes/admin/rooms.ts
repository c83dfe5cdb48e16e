import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Room, adminSchema, deliveryResponses } from './schemas.js'
import { SENDS_MESSAGE, sendBody, untyped } from './send.js'

/** `POST /rooms/:room/push`: one message to every member of the room, on every node. */
const rooms: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/rooms/:room/push', {
    config: { [SENDS_MESSAGE]: true },
    schema: adminSchema('pushToRoom', 'Send a message to every member of a room', {
      params: Type.Object({ room: Room }),
      body: sendBody({}),
      response: deliveryResponses
    })
  }, async (request) => {
    const { name, body } = request.body
    return await untyped(app.gate).pushToRoom(request.params.room, name, body)
  })
}

export default rooms
