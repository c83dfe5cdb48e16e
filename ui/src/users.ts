import { useEffect, useState } from 'preact/hooks'
import { api, ApiError } from './api.js'
import { count } from './format.js'
import { html } from './html.js'
import { usePoll } from './poll.js'
import type { User, UsersPage } from './types.js'

/** Uids per page: the server pages, so a dashboard never holds more than this. */
export const PAGE = 50
const USERS_POLL = 5000

/** One row: a uid and what its connections are (from `GET /users/:uid`). */
interface Row { uid: string, connections: number, nodes: string[], transports: string[], protocols: string[] }
type Column = keyof Row
const COLUMNS: Array<[Column, string]> = [['uid', 'uid'], ['connections', 'connections'], ['nodes', 'node'], ['transports', 'transport'], ['protocols', 'protocol']]
type Filters = Record<'nodes' | 'transports' | 'protocols', string>

const distinct = (values: string[]): string[] => [...new Set(values)].sort()

/** The page's uids with their connections' nodes, transports and protocols: one request per uid, 50 at most. */
async function loadRows (page: UsersPage): Promise<Row[]> {
  return await Promise.all(page.items.map(async item => {
    const user = await api<User>(`/users/${encodeURIComponent(item.uid)}`).catch(err => {
      if (err instanceof ApiError && err.status === 404) return null // went offline meanwhile
      throw err
    })
    const conns = user?.connections ?? []
    return {
      uid: item.uid,
      connections: item.connections,
      nodes: distinct(conns.map(c => c.node)),
      transports: distinct(conns.map(c => c.transport)),
      protocols: distinct(conns.map(c => c.protocol))
    }
  }))
}

function compare (column: Column, a: Row, b: Row): number {
  const x = a[column]
  const y = b[column]
  if (typeof x === 'number' && typeof y === 'number') return x - y
  const s = (v: unknown): string => Array.isArray(v) ? v.join(',') : String(v)
  return s(x) < s(y) ? -1 : s(x) > s(y) ? 1 : 0
}

/**
 * Online uids, searched by prefix and paged on the server (`GET /users?prefix=&offset=&limit=`);
 * the page's rows sorted and filtered by node, transport and protocol.
 */
export function Users (): ReturnType<typeof html> {
  const [typed, setTyped] = useState('')
  const [prefix, setPrefix] = useState('')
  const [offset, setOffset] = useState(0)
  const [sort, setSort] = useState<{ column: Column, down: boolean }>({ column: 'uid', down: false })
  const [filters, setFilters] = useState<Filters>({ nodes: '', transports: '', protocols: '' })

  // A search starts from the first page, once typing pauses.
  useEffect(() => {
    if (typed === prefix) return
    const timer = setTimeout(() => { setPrefix(typed); setOffset(0) }, 250)
    return () => clearTimeout(timer)
  }, [typed])

  const query = `/users?offset=${offset}&limit=${PAGE}` + (prefix === '' ? '' : `&prefix=${encodeURIComponent(prefix)}`)
  const { data, error } = usePoll(async () => {
    const page = await api<UsersPage>(query)
    return { page, rows: await loadRows(page) }
  }, USERS_POLL, [query])
  const shown = data?.page.offset === offset ? data : undefined
  const last = shown === undefined ? 0 : Math.min(offset + shown.page.items.length, shown.page.total)

  const rows = (shown?.rows ?? [])
    .filter(r => (Object.keys(filters) as Array<keyof Filters>).every(k => filters[k] === '' || r[k].includes(filters[k])))
    .sort((a, b) => (sort.down ? -1 : 1) * (compare(sort.column, a, b) || compare('uid', a, b)))
  const options = (k: keyof Filters): string[] => distinct((shown?.rows ?? []).flatMap(r => r[k]))
  const filter = (k: keyof Filters, label: string): ReturnType<typeof html> => html`<label>${label}
    <select name=${'filter-' + k} value=${filters[k]} onChange=${(e: Event) => setFilters({ ...filters, [k]: (e.target as HTMLSelectElement).value })}>
      <option value="">any</option>
      ${options(k).map(v => html`<option key=${v} value=${v}>${v}</option>`)}
    </select></label>`
  const header = ([column, label]: [Column, string]): ReturnType<typeof html> => html`<th key=${column}
    aria-sort=${sort.column === column ? (sort.down ? 'descending' : 'ascending') : 'none'}>
    <button type="button" class="sort" name=${'sort-' + column} onClick=${() => setSort({ column, down: sort.column === column ? !sort.down : false })}>
      ${label}${sort.column === column ? (sort.down ? ' ▼' : ' ▲') : ''}</button></th>`

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
          <span class="range" data-range>${shown.page.total === 0 ? 'no users' : `${count(offset + 1)}–${count(last)} of ${count(shown.page.total)}`}</span>
          <button type="button" name="next" disabled=${offset + PAGE >= shown.page.total} onClick=${() => setOffset(offset + PAGE)}>Next</button>
        </p>
        <div class="filters">
          ${filter('nodes', 'node')} ${filter('transports', 'transport')} ${filter('protocols', 'protocol')}
          <span class="hint">sorting and filters apply to this page of ${PAGE}</span>
        </div>
        <div class="scroll"><table class="user-list">
          <thead><tr>${COLUMNS.map(header)}</tr></thead>
          <tbody>${rows.map(u => html`<tr key=${u.uid} data-row=${u.uid}>
            <td><a href=${'#/users/' + encodeURIComponent(u.uid)} data-uid=${u.uid}>${u.uid}</a></td><td>${u.connections}</td>
            <td>${u.nodes.join(', ')}</td><td>${u.transports.join(', ')}</td><td>${u.protocols.join(', ')}</td>
          </tr>`)}</tbody>
        </table></div>`}
  </section>`
}
