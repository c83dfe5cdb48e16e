import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { GateError } from '../../src/errors.js'
import { UserConnections, UsersPage } from '../../src/answers.js'
import { adminSchema, errors, Uid } from './schemas.js'

/** Largest page of `GET /users`. */
export const MAX_PAGE = 1000

const UsersQuery = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }),
  prefix: Type.Optional(Type.String({ maxLength: 256, description: 'only the uids that start with it; `total` counts those' }))
}, { additionalProperties: false })

/** `GET /users` (paginated, in a stable order) and `GET /users/:uid`. */
const users: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users', {
    schema: adminSchema('listUsers', 'Online uids, a page at a time, in a stable order', {
      querystring: UsersQuery,
      response: { 200: UsersPage, ...errors(400, 401, 503) }
    })
  }, async (request) => await app.gate.users(request.query.offset, request.query.limit, request.query.prefix))

  app.get('/users/:uid', {
    schema: adminSchema('getUser', 'One uid\'s connections, on every node', {
      params: Type.Object({ uid: Uid }),
      response: { 200: UserConnections, ...errors(400, 401, 404, 503) }
    })
  }, async (request) => {
    const user = await app.gate.user(request.params.uid)
    if (user === null) throw new GateError.USER_OFFLINE(request.params.uid)
    return user
  })
}

export default users
