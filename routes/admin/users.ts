import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { GateError } from '../../src/errors.js'
import { adminSchema, clusterFields, errors, Uid } from './schemas.js'

/** Largest page of `GET /users`. */
export const MAX_PAGE = 1000

const UsersQuery = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }),
  prefix: Type.Optional(Type.String({ maxLength: 256, description: 'only the uids that start with it; `total` counts those' }))
})

const UsersPage = Type.Object({
  total: Type.Integer({ minimum: 0, description: 'online uids' }),
  offset: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  items: Type.Array(Type.Object({ uid: Type.String(), connections: Type.Integer({ minimum: 0 }) })),
  ...clusterFields
})

const ConnectionInfo = Type.Object({
  id: Type.String({ description: 'agent id, usable in POST /kick { agents }' }),
  node: Type.String(),
  transport: Type.Union([Type.Literal('ws'), Type.Literal('tcp')]),
  remoteAddress: Type.String(),
  connectedAt: Type.String({ format: 'date-time' })
})

const UserAnswer = Type.Object({
  uid: Type.String(),
  connections: Type.Array(ConnectionInfo),
  ...clusterFields
})

/** `GET /users` (paginated, in a stable order) and `GET /users/:uid`. */
const users: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users', {
    schema: adminSchema('Online uids, a page at a time, in a stable order', {
      querystring: UsersQuery,
      response: { 200: UsersPage, ...errors(400, 401, 503) }
    })
  }, async (request) => await app.gate.users(request.query.offset, request.query.limit, request.query.prefix))

  app.get('/users/:uid', {
    schema: adminSchema('One uid\'s connections, on every node', {
      params: Type.Object({ uid: Uid }),
      response: { 200: UserAnswer, ...errors(400, 401, 404, 503) }
    })
  }, async (request) => {
    const user = await app.gate.user(request.params.uid)
    if (user === null) throw new GateError.USER_OFFLINE(request.params.uid)
    return user
  })
}

export default users
