import { Validator, type OutputUnit } from '@cfworker/json-schema'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api } from './api.js'
import { html } from './html.js'
import type { Delivery, MessageInfo, MessageList } from './types.js'

let messages: Promise<MessageInfo[]> | undefined

/** The registered messages with their body schemas (`GET /messages`), fetched once per page load. */
export async function loadMessages (): Promise<MessageInfo[]> {
  messages ??= api<MessageList>('/messages').then(a => a.messages, err => { messages = undefined; throw err })
  return await messages
}

/**
 * The messages a push may send: those the server sends, i.e. registered without
 * a handler (a message with one is what clients send). When every message has a
 * handler, all of them.
 */
export function pushTargets (list: MessageInfo[]): MessageInfo[] {
  const outbound = list.filter(m => !m.handled)
  return outbound.length > 0 ? outbound : list
}

/** A body that fills the required fields of an object schema with empty values. */
function skeleton (schema: any): unknown {
  if (schema?.type !== 'object') return {}
  const out: Record<string, unknown> = {}
  for (const key of schema.required ?? []) {
    const t = schema.properties?.[key]?.type
    out[key] = t === 'string' ? '' : t === 'integer' || t === 'number' ? 0 : t === 'boolean' ? false : t === 'array' ? [] : t === 'object' ? {} : null
  }
  return out
}

/** Checks `text` as JSON and against the message's schema; returns the problems, none when it may be sent. */
export function checkBody (text: string, schema: object | undefined): { body?: unknown, problems: string[] } {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    return { problems: [`not JSON: ${(err as Error).message}`] }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problems: ['the body must be a JSON object'] }
  if (schema === undefined) return { body, problems: [] }
  const result = new Validator(schema as never, '7', false).validate(body)
  // The deepest errors say what is wrong; the others only repeat that a parent failed.
  const leaves = result.errors.filter((e: OutputUnit) => !result.errors.some(o => o !== e && o.instanceLocation.startsWith(e.instanceLocation + '/')))
  return result.valid ? { body, problems: [] } : { problems: leaves.map(e => `${e.instanceLocation.replace(/^#/, '') || '/'}: ${e.error}`) }
}

interface Props {
  /** Sends the checked message; resolves a line to show (e.g. "delivered to 3 connections"), or one line per uid. */
  send: (name: string, body: unknown) => Promise<string | Array<{ uid: string, line: string }>>
  label: string
  /** Asked before sending when set (broadcast). */
  confirm?: string
}

/** Picks a registered message, edits its body as JSON, checks it against the schema, then sends it. */
export function MessageForm ({ send, label, confirm }: Props): ReturnType<typeof html> {
  const [list, setList] = useState<MessageInfo[] | undefined>(undefined)
  const [name, setName] = useState('')
  const [text, setText] = useState('{}')
  const [result, setResult] = useState<{ ok: boolean, line: string | Array<{ uid: string, line: string }> } | undefined>(undefined)
  const [confirming, setConfirming] = useState(false)
  /** Set once the body was typed in: the list arriving then must not overwrite it. */
  const edited = useRef(false)

  useEffect(() => {
    loadMessages().then(all => {
      const l = pushTargets(all)
      setList(l)
      if (l[0] === undefined) return
      setName(name => name === '' ? l[0].name : name)
      if (!edited.current) setText(JSON.stringify(skeleton(l[0].schema)))
    }, err => setResult({ ok: false, line: (err as Error).message }))
  }, [])

  const def = list?.find(m => m.name === name)
  const { body, problems } = useMemo(() => checkBody(text, def?.schema as object | undefined), [text, def])

  const pick = (e: Event): void => {
    const next = (e.target as HTMLSelectElement).value
    setName(next)
    if (!edited.current) setText(JSON.stringify(skeleton(list?.find(m => m.name === next)?.schema)))
    setResult(undefined)
  }

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (problems.length > 0) return
    if (confirm !== undefined && !confirming) { setConfirming(true); return }
    setConfirming(false)
    try {
      setResult({ ok: true, line: await send(name, body) })
    } catch (err) {
      setResult({ ok: false, line: (err as Error).message })
    }
  }

  return html`<form class="message-form" onSubmit=${submit}>
    <label>Message
      <select name="name" value=${name} onChange=${pick}>
        ${(list ?? []).map(m => html`<option key=${m.name} value=${m.name}>${m.name}</option>`)}
      </select>
    </label>
    <label>Body (JSON)
      <textarea name="body" rows="3" spellcheck="false" value=${text}
        onInput=${(e: Event) => { edited.current = true; setText((e.target as HTMLTextAreaElement).value); setResult(undefined); setConfirming(false) }}></textarea>
    </label>
    ${problems.length > 0 && html`<ul class="problems">${problems.map(p => html`<li key=${p}>${p}</li>`)}</ul>`}
    ${confirming
      ? html`<p class="confirm">${confirm} <button type="submit" class="danger" name="confirm">Confirm</button>
          <button type="button" onClick=${() => setConfirming(false)}>Cancel</button></p>`
      : html`<button type="submit" disabled=${problems.length > 0 || def === undefined}>${label}</button>`}
    ${result !== undefined && (typeof result.line === 'string'
      ? html`<p class=${result.ok ? 'result' : 'error'} role="status">${result.line}</p>`
      : html`<ul class="result per-uid" role="status">${result.line.map(r => html`<li key=${r.uid} data-result-uid=${r.uid}><strong>${r.uid}</strong>: ${r.line}</li>`)}</ul>`)}
  </form>`
}

/** The cluster's partial mark of an answer, or ''. */
export function partialMark (a: { partial?: boolean, missingNodes?: string[] }): string {
  return a.partial === true ? ` (partial: ${(a.missingNodes ?? []).join(', ') || 'cluster store unreachable'})` : ''
}

/** "delivered to N connections", with the cluster's partial mark. */
export function deliveredLine (a: Delivery): string {
  return `delivered to ${a.delivered} connection${a.delivered === 1 ? '' : 's'}${partialMark(a)}`
}

/** One uid's push result: delivered, or not online (and whether its history kept it). */
export function uidDeliveredLine (a: Delivery): string {
  if (a.delivered > 0) return deliveredLine(a)
  return `not online: nothing delivered${a.stored === 1 ? ', kept in its history' : ''}${partialMark(a)}`
}

/**
 * Calls `one` for each uid (in parallel) and says what happened to each: the
 * admin API answers totals, so per-uid results take one request per uid.
 */
export async function perUid<T> (uids: string[], one: (uid: string) => Promise<T>, line: (a: T) => string): Promise<Array<{ uid: string, line: string }>> {
  return await Promise.all(uids.map(async uid => {
    try {
      return { uid, line: line(await one(uid)) }
    } catch (err) {
      return { uid, line: `failed: ${(err as Error).message}` }
    }
  }))
}
