import type { Static, TSchema } from '@sinclair/typebox'

/**
 * The type machinery of message maps (name -> body type), shared by the gate
 * (src/messages.ts) and the client SDK (client/): types only, so a browser
 * bundle that imports it gets no code.
 */

/** Untyped messages: any name, any body. */
export type AnyMessages = Record<string, unknown>

/** The message names of a message map. */
export type MessageName<M> = keyof M & string

/** A message map from a map of TypeBox schemas (name -> schema): name -> `Static<schema>`. Other entries are left out. */
export type MessageBodies<T> = { -readonly [K in keyof T as T[K] extends TSchema ? K : never]: T[K] extends TSchema ? Static<T[K]> : never }

/**
 * The application's messages: name -> body type. Empty, any name and any body
 * compile. Extend it by declaration merging, and `agent.send`, `gate.pushToUids`,
 * `gate.pushToRoom`, `gate.broadcast` and `gate.message` accept only these names,
 * each with its own body:
 *
 * ```ts
 * declare module 'fastify-gate' {
 *   interface GateMessages extends MessageBodies<typeof schemas> {}
 * }
 * ```
 */
export interface GateMessages {}

/** `GateMessages` once the application has extended it, else `AnyMessages`. */
export type DefaultMessages = keyof GateMessages extends never ? AnyMessages : GateMessages
