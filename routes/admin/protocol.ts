import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProtocolInfo } from '../../src/answers.js'
import { adminSchema, errors } from './schemas.js'

export interface ProtocolRouteOptions {
  /** Served without a token (the default); it then says so in the OpenAPI document. */
  public: boolean
}

/** `GET /protocol`: framing, encoding and the message id table, for clients. */
const protocol: FastifyPluginAsyncTypebox<ProtocolRouteOptions> = async (app, opts) => {
  app.get('/protocol', {
    schema: adminSchema('getProtocol', 'Framing, encoding and the message id table (and the protobuf schema)', {
      ...(opts.public ? { security: [] } : {}),
      response: opts.public ? { 200: ProtocolInfo } : { 200: ProtocolInfo, ...errors(401) }
    })
  }, async () => app.gate.protocol())
}

export default protocol
