import { Type, type Static } from '@sinclair/typebox'

/** One page of a uid's history (`GET /gate/users/:uid/history`), oldest first. */
export const HistoryPage = Type.Object({
  uid: Type.String(),
  epoch: Type.String({ description: 'the stream\'s epoch; "" when the uid has no stream' }),
  first: Type.Integer({ minimum: 0, description: 'the oldest offset still kept (last + 1 when none is)' }),
  last: Type.Integer({ minimum: 0, description: 'the newest offset given in this epoch' }),
  items: Type.Array(Type.Object({
    offset: Type.Integer({ minimum: 1 }),
    at: Type.String({ format: 'date-time', description: 'when it was stored, ISO 8601' }),
    name: Type.String(),
    body: Type.Unknown({ description: 'the message body, decoded' })
  })),
  next: Type.Optional(Type.Integer({ minimum: 0, description: 'the `after` of the next page, when there may be one' }))
})
export type HistoryPage = Static<typeof HistoryPage>
