import type { GateLogger } from '../logger.js'
import { decodeEnvelope, encodeBatch, encodeEnvelope, splitBatch, type Header, type Target, type WireHead } from './envelope.js'
import type { RedisClient } from './options.js'

/** What the asked nodes answered: the sum of their counts, and who did not answer. */
export interface Outcome {
  n: number
  /** The non-empty answer payloads, by node. */
  payloads: Map<string, Buffer>
  /** Nodes that nobody was subscribed for, or that did not answer in time. Sorted. */
  missing: string[]
}

/**
 * Does a request to this node with its own connections; returns the count, or
 * a payload to answer with; undefined: no answer (the asking node counts this
 * node missing).
 */
export type RequestHandler = (head: WireHead, payload: Buffer, from: string) => number | Buffer | undefined

/** The most envelopes, and bytes, in one batch: past either the batch goes out at once. */
const BATCH_MAX_COUNT = 256
const BATCH_MAX_BYTES = 512 * 1024

/** Envelopes waiting for the end of the event-loop turn, for one node; `failed` is called if they do not reach it. */
interface Outgoing { envelopes: Buffer[], bytes: number, failed: Array<(err?: Error) => void> }

interface Pending {
  answer (from: string, n: number, payload: Buffer): void
  unreachable (node: string): void
  finish (): void
}

/**
 * Request/reply between nodes over Redis sharded pub/sub (SSUBSCRIBE,
 * SPUBLISH: Redis 7), on a single Redis and on a Redis Cluster alike. Each
 * node subscribes to one shard channel of its own; a request names the asking
 * node, and the answer is published to that node's channel. On a Redis
 * Cluster a shard channel lives on the master of its slot, so a message
 * crosses one shard only (classic PUBLISH is copied to every shard). SPUBLISH
 * says how many subscribers got the message, so a node with no subscriber
 * (dead, or cut off) is known missing at once instead of after the timeout.
 *
 * Batches: the envelopes (requests and answers) of one event-loop turn for one
 * node go in one SPUBLISH (src/cluster/envelope.ts), which cuts the Redis
 * commands, and their writes and reads, per cross-node push. Only to nodes
 * whose own envelopes say they read batches (`b: 1`); to the others, and after
 * a node missed an answer, one envelope per SPUBLISH as before.
 */
export class ClusterBus {
  private readonly pub: RedisClient
  private readonly sub: RedisClient
  private readonly nodeId: string
  private readonly channelOf: (node: string) => string
  private readonly handle: RequestHandler
  private readonly log: GateLogger
  private readonly pending = new Map<number, Pending>()
  private seq = 0
  /** Set until the subscription succeeded. */
  private resolveSubscribed: (() => void) | undefined
  private readonly batching: boolean
  /** Nodes whose last envelope said they read batches. */
  private readonly readsBatches = new Set<string>()
  private readonly outgoing = new Map<string, Outgoing>()
  private flushing: NodeJS.Immediate | undefined

  constructor (pub: RedisClient, sub: RedisClient, nodeId: string, channelOf: (node: string) => string, handle: RequestHandler, log: GateLogger, batching = true) {
    this.batching = batching
    this.pub = pub
    this.sub = sub
    this.nodeId = nodeId
    this.channelOf = channelOf
    this.handle = handle
    this.log = log
  }

  /**
   * Subscribes to this node's channel; resolves once subscribed. The SSUBSCRIBE
   * waits for the connection to be ready (sent earlier, it makes ioredis's
   * ready check fail on a subscriber connection) and is tried again on every
   * ready until it succeeds; after that, ioredis renews it on each reconnect
   * (on a Redis Cluster: on the slot's new master after a failover).
   */
  async start (): Promise<void> {
    this.sub.on('smessageBuffer', this.onMessage)
    this.sub.on('ready', this.subscribe)
    await new Promise<void>(resolve => {
      this.resolveSubscribed = resolve
      if (this.sub.status === 'ready') void this.subscribe()
    })
  }

  stop (): void {
    this.sub.off('smessageBuffer', this.onMessage)
    this.sub.off('ready', this.subscribe)
    if (this.flushing !== undefined) clearImmediate(this.flushing)
    this.flush()
    for (const call of [...this.pending.values()]) call.finish()
  }

  /** Sends each target its request and sums the answers that arrive within `ms`. */
  async request (targets: ReadonlyMap<string, Target>, ms: number): Promise<Outcome> {
    if (targets.size === 0) return { n: 0, payloads: new Map(), missing: [] }
    const id = ++this.seq
    return await new Promise<Outcome>(resolve => {
      const waiting = new Set(targets.keys())
      const missing: string[] = []
      const payloads = new Map<string, Buffer>()
      let n = 0
      const call: Pending = {
        answer: (from, count, payload) => {
          if (!waiting.delete(from)) return
          n += count
          if (payload.length > 0) payloads.set(from, payload)
          if (waiting.size === 0) call.finish()
        },
        unreachable: (node) => {
          if (!waiting.delete(node)) return
          missing.push(node)
          if (waiting.size === 0) call.finish()
        },
        finish: () => {
          clearTimeout(timer)
          this.pending.delete(id)
          // A node that did not answer gets single envelopes until it says again that it reads batches.
          for (const node of waiting) this.readsBatches.delete(node)
          resolve({ n, payloads, missing: [...missing, ...waiting].sort() })
        }
      }
      const timer = setTimeout(call.finish, Math.max(1, ms))
      this.pending.set(id, call)
      for (const [node, { head, payload }] of targets) {
        this.send(node, encodeEnvelope(this.header({ t: 'req', id, from: this.nodeId, head }), payload), () => { call.unreachable(node) })
      }
    })
  }

  /** `header` with this node's `b: 1` when it reads batches. */
  private header (header: Header): Header {
    if (this.batching) header.b = 1
    return header
  }

  /** Sends one envelope to `node`: with the others of this event-loop turn when `node` reads batches. */
  private send (node: string, envelope: Buffer, failed: (err?: Error) => void): void {
    let out = this.outgoing.get(node)
    if (out === undefined) {
      // (readsBatches stays empty when this node does not batch)
      if (!this.readsBatches.has(node)) {
        this.publish(node, envelope, [failed])
        return
      }
      this.outgoing.set(node, out = { envelopes: [], bytes: 0, failed: [] })
    }
    // Queued behind what waits already, even if the node stopped reading batches meanwhile: in order.
    out.envelopes.push(envelope)
    out.bytes += envelope.length
    out.failed.push(failed)
    if (out.envelopes.length >= BATCH_MAX_COUNT || out.bytes >= BATCH_MAX_BYTES) {
      this.outgoing.delete(node)
      this.publishAll(node, out)
      return
    }
    this.flushing ??= setImmediate(this.flush)
  }

  private readonly flush = (): void => {
    this.flushing = undefined
    const all = [...this.outgoing]
    this.outgoing.clear()
    for (const [node, out] of all) this.publishAll(node, out)
  }

  /** What waited for `node`: one batch, or one envelope per SPUBLISH if it no longer reads batches. */
  private publishAll (node: string, out: Outgoing): void {
    if (out.envelopes.length === 1) this.publish(node, out.envelopes[0], out.failed)
    else if (this.readsBatches.has(node)) this.publish(node, encodeBatch(out.envelopes), out.failed)
    else out.envelopes.forEach((envelope, i) => { this.publish(node, envelope, [out.failed[i]]) })
  }

  private publish (node: string, bytes: Buffer, failed: Array<(err?: Error) => void>): void {
    this.pub.spublish(this.channelOf(node), bytes).then(
      receivers => { if (receivers === 0) this.unreachable(node, failed) },
      (err: Error) => { this.unreachable(node, failed, err) }
    )
  }

  private unreachable (node: string, failed: Array<(err?: Error) => void>, err?: Error): void {
    this.readsBatches.delete(node)
    for (const f of failed) f(err)
  }

  private readonly subscribe = async (): Promise<void> => {
    if (this.resolveSubscribed === undefined) return
    try {
      await this.sub.ssubscribe(this.channelOf(this.nodeId))
    } catch (err) {
      this.log.warn({ err }, 'cluster subscription failed; retrying on reconnect')
      return
    }
    this.resolveSubscribed?.()
    this.resolveSubscribed = undefined
  }

  private readonly onMessage = (_channel: Buffer, bytes: Buffer): void => {
    const batch = splitBatch(bytes)
    if (batch === undefined) this.receive(bytes)
    else for (const envelope of batch) this.receive(envelope)
  }

  private receive (bytes: Buffer): void {
    const envelope = decodeEnvelope(bytes)
    if (envelope === undefined) {
      this.log.warn({ bytes: bytes.length }, 'dropped a cluster bus message that is not an envelope')
      return
    }
    const { header, payload } = envelope
    if (header.b === 1 && this.batching) this.readsBatches.add(header.from)
    else this.readsBatches.delete(header.from)
    if (header.t === 'res') {
      this.pending.get(header.id)?.answer(header.from, header.n, payload)
      return
    }
    let n: number | Buffer | undefined
    try {
      n = this.handle(header.head, payload, header.from)
    } catch (err) {
      // No answer: the asking node reports this node as missing.
      this.log.error({ err, op: header.head.op, from: header.from }, 'cluster request failed')
      return
    }
    if (n === undefined) return
    const answer = typeof n === 'number'
      ? encodeEnvelope(this.header({ t: 'res', id: header.id, from: this.nodeId, n }))
      : encodeEnvelope(this.header({ t: 'res', id: header.id, from: this.nodeId, n: 0 }), n)
    this.send(header.from, answer, (err) => {
      if (err !== undefined) this.log.warn({ err, to: header.from }, 'could not answer a cluster request')
    })
  }
}
