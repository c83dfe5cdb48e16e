import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { RoomMembers, RoomsPage } from '../../src/answers.js'
import { GateError } from '../../src/errors.js'
import { adminSchema, errors, Room } from './schemas.js'
import { MAX_PAGE } from './users.js'

const Page = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 })
}, { additionalProperties: false })

/** `GET /rooms` (rooms with members, paged, in a stable order) and `GET /rooms/:room` (its members, paged). */
const roomPresence: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/rooms', {
    schema: adminSchema('listRooms', 'Rooms with members on any node, a page at a time, in a stable order, with their counts', {
      querystring: Page,
      response: { 200: RoomsPage, ...errors(400, 401, 503) }
    })
  }, async (request) => await app.gate.rooms(request.query.offset, request.query.limit))

  app.get('/rooms/:room', {
    schema: adminSchema('getRoom', 'A room\'s member connections on every node, a page at a time, ordered by connection id', {
      params: Type.Object({ room: Room }),
      querystring: Page,
      response: { 200: RoomMembers, ...errors(400, 401, 404, 503) }
    })
  }, async (request) => {
    const { room } = request.params
    const page = await app.gate.room(room, request.query.offset, request.query.limit)
    if (page === null) throw new GateError.ROOM_EMPTY(room)
    return page
  })
}

export default roomPresence
