import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HistoryPage } from '../../src/history/page.js'
import { adminSchema, errors, Uid } from './schemas.js'

/** Largest page of `GET /users/:uid/history`. */
export const MAX_HISTORY_PAGE = 1000

/** `GET /users/:uid/history`: a uid's stored messages, a page at a time, oldest first (offline uids too). */
const history: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users/:uid/history', {
    schema: adminSchema('getUserHistory', 'One uid\'s stored messages (history), a page at a time, oldest first', {
      params: Type.Object({ uid: Uid }),
      querystring: Type.Object({
        after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'the offset to read after (the previous page\'s `next`)' }),
        limit: Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE, default: 100 })
      }, { additionalProperties: false }),
      response: { 200: HistoryPage, ...errors(400, 401, 404, 503) }
    })
  }, async (request) => await app.gate.history.page(request.params.uid, request.query.after, request.query.limit, app.gate.processor))
}

export default history
