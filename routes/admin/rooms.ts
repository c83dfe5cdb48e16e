import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Room, adminSchema, deliveryResponses, messageFields } from './schemas.js'

/** `POST /rooms/:room/push`: one message to every member of the room, on every node. */
const rooms: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/rooms/:room/push', {
    schema: adminSchema('Send a message to every member of a room', {
      params: Type.Object({ room: Room }),
      body: Type.Object(messageFields),
      response: deliveryResponses
    })
  }, async (request) => {
    const { name, body } = request.body
    return await app.gate.pushToRoom(request.params.room, name, body)
  })
}

export default rooms
