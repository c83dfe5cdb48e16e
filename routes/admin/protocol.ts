import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox'
import { adminSchema, errors } from './schemas.js'

const ProtocolAnswer = Type.Object({
  encoding: Type.String({ description: '"json", "protobuf" or a custom processor\'s name' }),
  lenMsgLen: Type.Integer({ description: 'bytes of the TCP length prefix: 1, 2 or 4' }),
  littleEndian: Type.Boolean(),
  maxMsgLen: Type.Integer(),
  minMsgLen: Type.Integer(),
  messages: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), needsLogin: Type.Boolean() })),
  schema: Type.Optional(Type.Unknown({ description: 'protobuf mode: the protobufjs JSON descriptor of the messages' }))
}, { additionalProperties: true })

export interface ProtocolRouteOptions {
  /** Served without a token (the default); it then says so in the OpenAPI document. */
  public: boolean
}

/** `GET /protocol`: framing, encoding and the message id table, for clients. */
const protocol: FastifyPluginAsyncTypebox<ProtocolRouteOptions> = async (app, opts) => {
  app.get('/protocol', {
    schema: adminSchema('getProtocol', 'Framing, encoding and the message id table (and the protobuf schema)', {
      ...(opts.public ? { security: [] } : {}),
      response: opts.public ? { 200: ProtocolAnswer } : { 200: ProtocolAnswer, ...errors(401) }
    })
  }, async () => app.gate.protocol() as Static<typeof ProtocolAnswer>)
}

export default protocol
