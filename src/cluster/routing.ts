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
