/**
 * The admin API's answers, as the dashboard reads them: the types of the
 * routes' own TypeBox schemas (src/answers.ts, src/figures/schema.ts,
 * src/history/page.ts), imported as types only (erased from the bundle), so
 * the dashboard cannot drift from what the routes answer.
 */
import type { MessageList } from '../../src/answers.js'

export type {
  ClusterAnswer, ConnectionInfo, Delivery, GateStats as Stats, KickResult as Kicked, MessageList,
  RoomMembers, RoomsPage, UserConnections as User, UserCounters as Counters, UsersPage
} from '../../src/answers.js'
export type { FiguresAnswer as Figures, NodeFigures, TotalFigures } from '../../src/figures/schema.js'
export type { HistoryPage } from '../../src/history/page.js'

/** One registered message, as `GET /messages` lists it. */
export type MessageInfo = MessageList['messages'][number]
