import type { Reach, Share } from '../operations/operation.js'
import type { RouteRead } from './presence.js'

/** The node of an agent id `<nodeId>-<base36 seq>`: everything before the last '-'. */
export function nodeOfAgent (id: string): string | undefined {
  const dash = id.lastIndexOf('-')
  return dash > 0 ? id.slice(0, dash) : undefined
}

/** Groups uids by the nodes holding them; `agents[i]` are the connection ids of `uids[i]`. */
export function uidsByNode (uids: readonly string[], agents: readonly string[][]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  uids.forEach((uid, i) => {
    const nodes = new Set<string>()
    for (const id of agents[i] ?? []) {
      const node = nodeOfAgent(id)
      if (node !== undefined) nodes.add(node)
    }
    for (const node of nodes) {
      const list = out.get(node)
      if (list === undefined) out.set(node, [uid])
      else list.push(uid)
    }
  })
  return out
}

/** Groups agent ids by their node. */
export function agentsByNode (ids: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const id of ids) {
    const node = nodeOfAgent(id)
    if (node === undefined) continue
    const list = out.get(node)
    if (list === undefined) out.set(node, [id])
    else list.push(id)
  }
  return out
}

const noIds: readonly string[] = []
const nothing: Share = { uids: noIds, agents: noIds }

/**
 * Which node gets which share of an ask: the uids each node holds and the
 * connection ids naming it, the nodes with members of a room, or every live node.
 */
export function sharesOf (reach: Reach, route: RouteRead): Map<string, Share> {
  switch (reach.to) {
    case 'all': return new Map(route.nodes.map(node => [node, nothing]))
    case 'room': return new Map((route.roomNodes ?? []).map(node => [node, nothing]))
    case 'uids': {
      const byUid = uidsByNode(reach.uids, route.agents)
      if (reach.agents === undefined) return new Map([...byUid].map(([node, uids]) => [node, { uids, agents: noIds }]))
      const byAgent = agentsByNode(reach.agents)
      const shares = new Map<string, Share>()
      for (const node of new Set([...byUid.keys(), ...byAgent.keys()])) shares.set(node, { uids: byUid.get(node) ?? noIds, agents: byAgent.get(node) ?? noIds })
      return shares
    }
  }
}
