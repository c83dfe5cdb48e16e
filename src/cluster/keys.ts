/**
 * Names in Redis. Every one starts with the hash tag `{prefix}`, so a Redis
 * Cluster keeps all presence keys in one slot (the scripts stay single-slot).
 * The full key layout is drawn in `scripts.ts`.
 */
export interface ClusterKeys {
  /** The node registry, KEYS[1] of every script. */
  nodes: string
  /** The bus channel a node subscribes to. */
  channel: (nodeId: string) => string
}

export function clusterKeys (prefix: string): ClusterKeys {
  const tag = `{${prefix}}`
  return { nodes: `${tag}:nodes`, channel: nodeId => `${tag}:bus:${nodeId}` }
}
