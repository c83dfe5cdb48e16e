/** The admin API's answers, as the dashboard reads them (types only: erased from the bundle). */
import type { NodeFigures, TotalFigures } from '../../src/figures/schema.js'
import type { ConnectionInfo } from '../../src/local-agents.js'

export type { NodeFigures, TotalFigures }

export interface ClusterAnswer { partial?: boolean, missingNodes?: string[] }

export interface Stats extends ClusterAnswer {
  onlineUsers: number
  connections: number
  nodes: number
  transports: { ws: number, tcp: number }
  node: string
  mode: 'local' | 'cluster'
}

export interface Figures extends ClusterAnswer {
  stats: Stats
  latencyBounds: number[]
  total: TotalFigures
  nodes: NodeFigures[]
}

export interface UsersPage extends ClusterAnswer {
  total: number
  offset: number
  limit: number
  items: Array<{ uid: string, connections: number }>
}

export interface User extends ClusterAnswer {
  uid: string
  connections: Array<ConnectionInfo & { protocol?: string }>
}

export interface Counters {
  uid: string
  node: string
  connections: Array<{ id: string, msgsIn: number, msgsOut: number, bytesIn: number, bytesOut: number, lastSeen: string }>
}

export interface MessageInfo { id: number, name: string, needsLogin: boolean, schema?: object }
export interface Delivery extends ClusterAnswer { delivered: number }
export interface Kicked extends ClusterAnswer { kicked: number }
