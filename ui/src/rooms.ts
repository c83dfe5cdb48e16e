import { useState } from 'preact/hooks'
import { api, ApiError } from './api.js'
import { count } from './format.js'
import { html } from './html.js'
import { usePoll } from './poll.js'
import type { RoomMembers, RoomsPage } from './types.js'

/** Rooms, or members, per page: the server pages, so a dashboard never holds more than this. */
export const ROOMS_PAGE = 50
const ROOMS_POLL = 5000

function Pager ({ offset, shown, total, what, setOffset }: { offset: number, shown: number, total: number, what: string, setOffset: (n: number) => void }): ReturnType<typeof html> {
  const last = Math.min(offset + shown, total)
  return html`<p class="pager">
    <button type="button" name="previous" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - ROOMS_PAGE))}>Previous</button>
    <span class="range" data-range>${total === 0 ? `no ${what}` : `${count(offset + 1)}–${count(last)} of ${count(total)}`}</span>
    <button type="button" name="next" disabled=${offset + ROOMS_PAGE >= total} onClick=${() => setOffset(offset + ROOMS_PAGE)}>Next</button>
  </p>`
}

/** Rooms with members on any node, paged on the server (`GET /rooms`), with their member counts. */
export function Rooms (): ReturnType<typeof html> {
  const [offset, setOffset] = useState(0)
  const query = `/rooms?offset=${offset}&limit=${ROOMS_PAGE}`
  const { data, error } = usePoll(async () => await api<RoomsPage>(query), ROOMS_POLL, [query])
  const page = data?.offset === offset ? data : undefined
  return html`<section class="rooms">
    ${error !== undefined && html`<p class="error" role="alert">${error.message}</p>`}
    ${page === undefined
      ? html`<p>Loading…</p>`
      : html`
        <${Pager} offset=${offset} shown=${page.items.length} total=${page.total} what="rooms" setOffset=${setOffset} />
        <div class="scroll"><table class="room-list">
          <caption>${page.partial === true ? 'partial answer: some node is missing' : 'rooms with at least one member, on every node'}</caption>
          <thead><tr><th>room</th><th>connections</th><th>uids</th></tr></thead>
          <tbody>${page.items.map(r => html`<tr key=${r.room} data-room-row=${r.room}>
            <td><a href=${'#/rooms/' + encodeURIComponent(r.room)} data-room=${r.room}>${r.room}</a></td><td>${count(r.connections)}</td><td>${count(r.uids)}</td>
          </tr>`)}</tbody>
        </table></div>`}
  </section>`
}

/** One room's member connections on every node, paged on the server (`GET /rooms/:room`). */
export function RoomView ({ room }: { room: string }): ReturnType<typeof html> {
  const [offset, setOffset] = useState(0)
  const query = `/rooms/${encodeURIComponent(room)}?offset=${offset}&limit=${ROOMS_PAGE}`
  const { data, error } = usePoll(async () => {
    return await api<RoomMembers>(query).catch(err => { if (err instanceof ApiError && err.status === 404) return null; throw err })
  }, ROOMS_POLL, [query])
  const header = html`<h2><a href="#/rooms">Rooms</a> / <span data-room-name>${room}</span></h2>`
  if (data === undefined) return html`<section>${header}<p>${error !== undefined ? html`<span class="error">${error.message}</span>` : 'Loading…'}</p></section>`
  return html`<section class="room">
    ${header}
    ${error !== undefined && html`<p class="error" role="alert">${error.message}</p>`}
    ${data === null
      ? html`<p class="offline" data-empty>${room} has no member.</p>`
      : html`
        <${Pager} offset=${offset} shown=${data.items.length} total=${data.total} what="members" setOffset=${setOffset} />
        <div class="scroll"><table class="members">
          <caption>${data.total} member connection${data.total === 1 ? '' : 's'}${data.partial === true ? ' (partial answer)' : ''}</caption>
          <thead><tr><th>uid</th><th>id</th><th>node</th><th>transport</th><th>protocol</th></tr></thead>
          <tbody>${data.items.map(m => html`<tr key=${m.id} data-member=${m.id}>
            <td>${m.uid === undefined ? html`<em>not logged in</em>` : html`<a href=${'#/users/' + encodeURIComponent(m.uid)} data-uid=${m.uid}>${m.uid}</a>`}</td>
            <td>${m.id}</td><td>${m.node}</td><td>${m.transport}</td><td>${m.protocol}</td>
          </tr>`)}</tbody>
        </table></div>`}
  </section>`
}
