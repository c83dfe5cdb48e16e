import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { count } from './format.js'
import { html } from './html.js'
import { usePoll } from './poll.js'
import type { UsersPage } from './types.js'

/** Uids per page: the server pages, so a dashboard never holds more than this. */
export const PAGE = 50
const USERS_POLL = 5000

/** Online uids, searched by prefix and paged on the server (`GET /users?prefix=&offset=&limit=`). */
export function Users (): ReturnType<typeof html> {
  const [typed, setTyped] = useState('')
  const [prefix, setPrefix] = useState('')
  const [offset, setOffset] = useState(0)

  // A search starts from the first page, once typing pauses.
  useEffect(() => {
    if (typed === prefix) return
    const timer = setTimeout(() => { setPrefix(typed); setOffset(0) }, 250)
    return () => clearTimeout(timer)
  }, [typed])

  const query = `/users?offset=${offset}&limit=${PAGE}` + (prefix === '' ? '' : `&prefix=${encodeURIComponent(prefix)}`)
  const { data, error } = usePoll(async () => await api<UsersPage>(query), USERS_POLL, [query])
  const shown = data?.offset === offset ? data : undefined
  const last = shown === undefined ? 0 : Math.min(offset + shown.items.length, shown.total)

  return html`<section class="users">
    <form class="search" onSubmit=${(e: Event) => { e.preventDefault(); setPrefix(typed); setOffset(0) }}>
      <input type="search" name="prefix" placeholder="uid starts with…" value=${typed} aria-label="Search uids by prefix"
        onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} />
    </form>
    ${error !== undefined && html`<p class="error" role="alert">${error.message}</p>`}
    ${shown === undefined
      ? html`<p>Loading…</p>`
      : html`
        <p class="pager">
          <button type="button" name="previous" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
          <span class="range" data-range>${shown.total === 0 ? 'no users' : `${count(offset + 1)}–${count(last)} of ${count(shown.total)}`}</span>
          <button type="button" name="next" disabled=${offset + PAGE >= shown.total} onClick=${() => setOffset(offset + PAGE)}>Next</button>
        </p>
        <table class="user-list">
          <thead><tr><th>uid</th><th>connections</th></tr></thead>
          <tbody>${shown.items.map(u => html`<tr key=${u.uid}>
            <td><a href=${'#/users/' + encodeURIComponent(u.uid)} data-uid=${u.uid}>${u.uid}</a></td><td>${u.connections}</td>
          </tr>`)}</tbody>
        </table>`}
  </section>`
}
