import { useState } from 'preact/hooks'
import { api, ApiError } from './api.js'
import { count } from './format.js'
import { html } from './html.js'
import { usePoll } from './poll.js'
import type { HistoryPage } from './types.js'

/** Messages per page of the history view. */
export const HISTORY_PAGE = 20
const HISTORY_POLL = 5000

/**
 * One uid's history (`GET /users/:uid/history`), online or not: its newest
 * messages first shown, then earlier or later pages. `after` is the offset the
 * page starts after; `null` follows the newest.
 */
export function History ({ uid }: { uid: string }): ReturnType<typeof html> {
  const [after, setAfter] = useState<number | null>(null)
  const path = `/users/${encodeURIComponent(uid)}/history`
  const { data, error } = usePoll(async () => {
    try {
      if (after !== null) return await api<HistoryPage>(`${path}?after=${after}&limit=${HISTORY_PAGE}`)
      // The newest page: where the stream ends, then the page that ends there.
      const head = await api<HistoryPage>(`${path}?after=0&limit=1`)
      const from = Math.max(head.first - 1, head.last - HISTORY_PAGE, 0)
      return from === 0 && head.items.length === 0 ? head : await api<HistoryPage>(`${path}?after=${from}&limit=${HISTORY_PAGE}`)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'FST_GATE_NO_HISTORY') return 'off' as const
      throw err
    }
  }, HISTORY_POLL, [path, after])

  const heading = html`<h3>History of ${uid}</h3>`
  if (data === 'off') return html`<div class="history">${heading}<p data-history-off>History is off: no message is registered with <code>history: true</code>.</p></div>`
  if (data === undefined) return html`<div class="history">${heading}<p>${error !== undefined ? html`<span class="error">${error.message}</span>` : 'Loading…'}</p></div>`
  const start = data.items[0]?.offset ?? data.last + 1
  const earlier = start > Math.max(data.first, 1)
  const later = data.next !== undefined && (data.items.at(-1)?.offset ?? 0) < data.last
  return html`<div class="history">
    ${heading}
    <p class="pager">
      <button type="button" name="history-earlier" disabled=${!earlier} onClick=${() => setAfter(Math.max(start - 1 - HISTORY_PAGE, data.first - 1, 0))}>Earlier</button>
      <span data-history-range>${data.items.length === 0 ? 'no stored message' : `${count(data.items.length)} of ${count(data.last - data.first + 1)} kept (offsets ${data.first}–${data.last})`}</span>
      <button type="button" name="history-later" disabled=${!later} onClick=${() => setAfter(data.items.at(-1)?.offset ?? null)}>Later</button>
      ${after !== null && html`<button type="button" name="history-newest" onClick=${() => setAfter(null)}>Newest</button>`}
    </p>
    ${data.items.length > 0 && html`<div class="scroll"><table class="history-items">
      <thead><tr><th>offset</th><th>stored</th><th>message</th><th>body</th></tr></thead>
      <tbody>${data.items.map(item => html`<tr key=${item.offset} data-offset=${item.offset}>
        <td>${item.offset}</td><td title=${item.at}>${new Date(item.at).toLocaleString()}</td><td>${item.name}</td>
        <td><code class="body">${JSON.stringify(item.body)}</code></td>
      </tr>`)}</tbody>
    </table></div>`}
  </div>`
}
