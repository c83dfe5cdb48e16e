import { useState } from 'preact/hooks'
import { api, ApiError } from './api.js'
import { bytes, count, since } from './format.js'
import { html } from './html.js'
import { History } from './history.js'
import { deliveredLine, MessageForm, partialMark } from './message-form.js'
import { usePoll } from './poll.js'
import type { Counters, Delivery, Kicked, User } from './types.js'

const USER_POLL = 5000

/** One uid: its connections on every node (counters for those on the answering node), kick, push and its history. */
export function UserView ({ uid }: { uid: string }): ReturnType<typeof html> {
  const path = `/users/${encodeURIComponent(uid)}`
  const { data, error, refresh } = usePoll(async () => {
    const [user, counters] = await Promise.all([
      api<User>(path).catch(err => { if (err instanceof ApiError && err.status === 404) return null; throw err }),
      api<Counters>(`${path}/counters`)
    ])
    return { user, counters }
  }, USER_POLL, [path])
  const [reason, setReason] = useState('kicked by an admin')
  const [kickResult, setKickResult] = useState<string | undefined>(undefined)

  const kick = async (agents?: string[]): Promise<void> => {
    try {
      const a = await api<Kicked>('/kick', agents === undefined ? { uids: [uid], reason } : { agents, reason })
      setKickResult(a.kicked === 0 ? `${uid} was not online: nothing kicked${partialMark(a)}` : `kicked ${a.kicked} connection${a.kicked === 1 ? '' : 's'}${partialMark(a)}`)
    } catch (err) {
      setKickResult((err as Error).message)
    }
    refresh()
  }

  const header = html`<h2><a href="#/users">Users</a> / <span data-user>${uid}</span></h2>`
  if (data === undefined) return html`<section>${header}<p>${error !== undefined ? html`<span class="error">${error.message}</span>` : 'Loading…'}</p></section>`
  const { user, counters } = data
  const byId = new Map(counters.connections.map(c => [c.id, c]))

  return html`<section class="user">
    ${header}
    ${error !== undefined && html`<p class="error" role="alert">${error.message}</p>`}
    ${kickResult !== undefined && html`<p class="result" role="status" data-kick-result>${kickResult}</p>`}
    ${user === null
      ? html`<p class="offline" data-offline>${uid} is not online.</p>`
      : html`
        <div class="scroll"><table class="connections">
          <caption>${user.connections.length} connection${user.connections.length === 1 ? '' : 's'}${user.partial === true ? ' (partial answer)' : ''}; counters are those of node ${counters.node}</caption>
          <thead><tr><th>id</th><th>node</th><th>transport</th><th>protocol</th><th>address</th><th>since</th><th>rooms</th><th>msgs in</th><th>msgs out</th><th>bytes in</th><th>bytes out</th><th></th></tr></thead>
          <tbody>${user.connections.map(c => {
            const n = byId.get(c.id)
            return html`<tr key=${c.id} data-agent=${c.id}>
              <td>${c.id}</td><td>${c.node}</td><td>${c.transport}</td><td>${c.protocol}</td><td>${c.remoteAddress}</td>
              <td title=${c.connectedAt}>${since(c.connectedAt)}</td>
              <td data-rooms>${(c.rooms ?? []).map((r, i) => html`${i > 0 ? ', ' : ''}<a href=${'#/rooms/' + encodeURIComponent(r)} data-room=${r}>${r}</a>`)}</td>
              <td>${n === undefined ? '—' : count(n.msgsIn)}</td><td>${n === undefined ? '—' : count(n.msgsOut)}</td>
              <td>${n === undefined ? '—' : bytes(n.bytesIn)}</td><td>${n === undefined ? '—' : bytes(n.bytesOut)}</td>
              <td><button type="button" name="kick-connection" onClick=${() => { void kick([c.id]) }}>Kick</button></td>
            </tr>`
          })}</tbody>
        </table></div>
        <form class="kick" onSubmit=${(e: Event) => { e.preventDefault(); void kick() }}>
          <label>Reason <input name="reason" value=${reason} maxLength="123"
            onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /></label>
          <button type="submit" class="danger" name="kick">Kick ${uid}</button>
        </form>
        <h3>Push a message to ${uid}</h3>
        <${MessageForm} label="Push" send=${async (name: string, body: unknown) => deliveredLine(await api<Delivery>('/push', { uids: [uid], name, body }))} />`}
    <${History} uid=${uid} />
  </section>`
}
