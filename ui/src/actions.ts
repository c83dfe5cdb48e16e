import { useState } from 'preact/hooks'
import { api } from './api.js'
import { html } from './html.js'
import { deliveredLine, MessageForm, partialMark, perUid, uidDeliveredLine } from './message-form.js'
import type { Delivery, Kicked } from './types.js'

const list = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(s => s !== ''))]
/** uids per push or kick from this page: one request each, so that each gets its own result. */
export const MAX_UIDS = 100

const kickedLine = (a: Kicked): string => a.kicked === 0
  ? `not online: nothing kicked${partialMark(a)}`
  : `kicked ${a.kicked} connection${a.kicked === 1 ? '' : 's'}${partialMark(a)}`

/** Pushes to uids or a room, broadcasts (behind a confirmation), kicks uids; per-uid results. */
export function Actions (): ReturnType<typeof html> {
  const [uids, setUids] = useState('')
  const [room, setRoom] = useState('')
  const [kickUids, setKickUids] = useState('')
  const [reason, setReason] = useState('kicked by an admin')
  const [kicked, setKicked] = useState<Array<{ uid: string, line: string }> | string | undefined>(undefined)
  const [loggedInOnly, setLoggedInOnly] = useState(false)
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value)

  const kick = async (e: Event): Promise<void> => {
    e.preventDefault()
    const targets = list(kickUids)
    if (targets.length > MAX_UIDS) { setKicked(`at most ${MAX_UIDS} uids at once`); return }
    setKicked(await perUid(targets, async uid => await api<Kicked>('/kick', { uids: [uid], reason }), kickedLine))
  }

  return html`<section class="actions">
    <div class="action" data-action="push">
      <h3>Push to uids</h3>
      <label>uids <input name="uids" placeholder="alice, bob" value=${uids} onInput=${value(setUids)} /></label>
      <${MessageForm} label="Push" send=${async (name: string, body: unknown) => {
        const targets = list(uids)
        if (targets.length === 0) throw new Error('name at least one uid')
        if (targets.length > MAX_UIDS) throw new Error(`at most ${MAX_UIDS} uids at once`)
        return await perUid(targets, async uid => await api<Delivery>('/push', { uids: [uid], name, body }), uidDeliveredLine)
      }} />
    </div>
    <div class="action" data-action="room">
      <h3>Push to a room</h3>
      <label>room <input name="room" value=${room} onInput=${value(setRoom)} /></label>
      <${MessageForm} label="Push to room" send=${async (name: string, body: unknown) => {
        if (room === '') throw new Error('name a room')
        return deliveredLine(await api<Delivery>(`/rooms/${encodeURIComponent(room)}/push`, { name, body }))
      }} />
    </div>
    <div class="action" data-action="broadcast">
      <h3>Broadcast</h3>
      <label class="check"><input type="checkbox" name="loggedInOnly" checked=${loggedInOnly}
        onChange=${(e: Event) => setLoggedInOnly((e.target as HTMLInputElement).checked)} /> logged-in connections only</label>
      <${MessageForm} label="Broadcast…" confirm=${`Send this to every ${loggedInOnly ? 'logged-in ' : ''}connection of the cluster?`}
        send=${async (name: string, body: unknown) => deliveredLine(await api<Delivery>('/broadcast', { name, body, loggedInOnly }))} />
    </div>
    <div class="action" data-action="kick">
      <h3>Kick uids</h3>
      <form onSubmit=${kick}>
        <label>uids <input name="uids" value=${kickUids} onInput=${value(setKickUids)} /></label>
        <label>reason <input name="reason" value=${reason} maxLength="123" onInput=${value(setReason)} /></label>
        <button type="submit" class="danger" disabled=${list(kickUids).length === 0}>Kick</button>
      </form>
      ${typeof kicked === 'string' && html`<p class="error" role="status">${kicked}</p>`}
      ${Array.isArray(kicked) && html`<ul class="result per-uid" role="status">${kicked.map(r => html`<li key=${r.uid} data-result-uid=${r.uid}><strong>${r.uid}</strong>: ${r.line}</li>`)}</ul>`}
    </div>
  </section>`
}
