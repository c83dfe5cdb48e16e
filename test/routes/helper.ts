import type { LightMyRequestResponse } from 'fastify'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { GatePluginOptions } from '../../plugins/gate.js'
import type { Agent } from '../../src/agent.js'
import { connectAgent, registerTestMessages, startGate, type Client, type Started, type TransportName } from '../helper.js'

/** The admin tokens of `startAdmin`: two, as during a rotation. */
export const TOKENS = ['old-admin-token', 'new-admin-token'] as const

/** A gate with the test messages (`Echo`, `Login`, `Secret`) and the admin API behind `TOKENS`. */
export async function startAdmin (t: TestContext, opts: GatePluginOptions = {}): Promise<Started> {
  return await startGate(t, { admin: { tokens: [...TOKENS] }, ...opts }, registerTestMessages)
}

export interface Call {
  url: string
  method?: 'GET' | 'POST'
  body?: unknown
  /** The bearer token; `null` sends no Authorization header. Default: the first of `TOKENS`. */
  token?: string | null
}

/** One admin request through `inject`. */
export async function call (s: Started, c: Call): Promise<LightMyRequestResponse> {
  const token = c.token === undefined ? TOKENS[0] : c.token
  return await s.app.inject({
    method: c.method ?? (c.body === undefined ? 'GET' : 'POST'),
    url: c.url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(c.body === undefined ? {} : { payload: c.body as object })
  })
}

/** An admin request that must answer 200; returns the parsed body. */
export async function ok (s: Started, c: Call): Promise<any> {
  const res = await call(s, c)
  assert.equal(res.statusCode, 200, `${c.url}: ${res.body}`)
  return res.json()
}

/** Asserts Fastify's error shape with `status` and `code`. */
export function assertError (res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body)
  const body = res.json()
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  assert.equal(body.statusCode, status)
  assert.equal(body.code, code)
}

export interface LoggedIn { client: Client, agent: Agent }

/** Connects over `transport` and logs in as `uid` (the test `Login` message), waiting for the welcome. */
export async function login (s: Started, transport: TransportName, uid: string): Promise<LoggedIn> {
  const conn = await connectAgent(s, transport)
  conn.client.send('Login', { uid })
  const welcome = await conn.client.next()
  assert.deepEqual(welcome, { name: 'Echo', body: { text: `welcome ${uid}` } })
  return conn
}

/**
 * Asserts that nothing more reached `client`: an `Echo` round trip comes back
 * first (the server writes a connection's messages in order).
 */
export async function assertNothingMore (client: Client): Promise<void> {
  client.send('Echo', { text: 'ping' })
  assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'ping' } })
}
