import { useRef } from 'preact/hooks'
import type uPlot from 'uplot'
import { api } from './api.js'
import { Chart } from './chart.js'
import { closeName, count, seconds } from './format.js'
import { html } from './html.js'
import { usePoll } from './poll.js'
import type { Figures, NodeFigures, TotalFigures } from './types.js'

/** Milliseconds between two polls of `GET /figures`. */
export const FIGURES_POLL = 2000
/** Points kept per chart: three minutes. */
const HISTORY = 90

interface History { t: number[], conns: number[], users: number[], in: number[], out: number[], p50: Array<number | null>, p99: Array<number | null> }

const push = <T>(list: T[], v: T): void => { list.push(v); if (list.length > HISTORY) list.shift() }
const perSecond = (v: number): string => count(v)

function Card ({ name, label, value }: { name: string, label: string, value: string }): ReturnType<typeof html> {
  return html`<div class="card"><div class="label">${label}</div><div class="value" data-figure=${name}>${value}</div></div>`
}

function NodeRow ({ f, name }: { f: NodeFigures | TotalFigures, name: string }): ReturnType<typeof html> {
  return html`<tr data-node=${name}>
    <th scope="row">${name}</th>
    <td>${count(f.connections.ws)}</td><td>${count(f.connections.tcp)}</td>
    <td>${Object.entries(f.protocols).map(([p, n]) => `${p} ${count(n)}`).join(', ') || '—'}</td>
    <td>${count(f.onlineUsers)}</td>
    <td>${perSecond(f.msgsIn)}</td><td>${perSecond(f.msgsOut)}</td>
    <td>${seconds(f.p50)}</td><td>${seconds(f.p99)}</td>
  </tr>`
}

/** Cluster overview: counts, rates, latency and closes, polled at a fixed rate; charts of the last minutes. */
export function Overview (): ReturnType<typeof html> {
  const history = useRef<History>({ t: [], conns: [], users: [], in: [], out: [], p50: [], p99: [] })
  const last = useRef(0)
  const { data, error } = usePoll(async () => await api<Figures>('/figures'), FIGURES_POLL, [])

  if (data !== undefined && data.nodes[0]?.at !== last.current) {
    const h = history.current
    last.current = data.nodes[0]?.at ?? Date.now()
    push(h.t, Date.now() / 1000)
    push(h.conns, data.stats.connections)
    push(h.users, data.stats.onlineUsers)
    push(h.in, data.total.msgsIn)
    push(h.out, data.total.msgsOut)
    push(h.p50, data.total.p50 === null ? null : data.total.p50 * 1000)
    push(h.p99, data.total.p99 === null ? null : data.total.p99 * 1000)
  }
  const h = history.current
  const ms = (v: number): string => `${count(v)} ms`

  if (data === undefined) return html`<section><p>${error !== undefined ? html`<span class="error">${error.message}</span>` : 'Loading…'}</p></section>`
  const { stats, total } = data
  const nodes = [...data.nodes].sort((a, b) => a.node < b.node ? -1 : a.node > b.node ? 1 : 0)
  const closes = Object.entries(total.closes).sort(([a], [b]) => Number(a) - Number(b))

  return html`<section class="overview">
    ${error !== undefined && html`<p class="error" role="alert">Last poll failed: ${error.message}</p>`}
    ${data.partial === true && html`<p class="warn">Partial answer: no figures from ${(data.missingNodes ?? []).join(', ') || 'some nodes'}.</p>`}
    <div class="cards">
      <${Card} name="nodes" label="Nodes" value=${count(stats.nodes)} />
      <${Card} name="connections" label="Connections" value=${count(stats.connections)} />
      <${Card} name="onlineUsers" label="Online users" value=${count(stats.onlineUsers)} />
      <${Card} name="msgsIn" label="Messages in /s" value=${perSecond(total.msgsIn)} />
      <${Card} name="msgsOut" label="Messages out /s" value=${perSecond(total.msgsOut)} />
      <${Card} name="p50" label="Handler p50" value=${seconds(total.p50)} />
      <${Card} name="p99" label="Handler p99" value=${seconds(total.p99)} />
    </div>
    <div class="charts">
      <${Chart} title="Connections and online users" data=${[h.t, h.conns, h.users] as uPlot.AlignedData}
        series=${[{ label: 'connections', stroke: '#2f6fdf', width: 4 }, { label: 'online users', stroke: '#1f9d55', dash: [6, 4], width: 1.5 }]} />
      <${Chart} title="Messages per second" data=${[h.t, h.in, h.out] as uPlot.AlignedData}
        series=${[{ label: 'in', stroke: '#2f6fdf', format: perSecond, width: 4 }, { label: 'out', stroke: '#d97706', format: perSecond, dash: [6, 4], width: 1.5 }]} />
      <${Chart} title="Handler latency" data=${[h.t, h.p50, h.p99] as uPlot.AlignedData}
        series=${[{ label: 'p50', stroke: '#1f9d55', format: ms, width: 4 }, { label: 'p99', stroke: '#c0392b', format: ms, dash: [6, 4], width: 1.5 }]} />
    </div>
    <div class="tables">
      <div class="scroll"><table class="nodes">
        <caption>Connections by node, transport and protocol (${stats.mode} mode)</caption>
        <thead><tr><th>node</th><th>ws</th><th>tcp</th><th>protocols</th><th>users</th><th>in/s</th><th>out/s</th><th>p50</th><th>p99</th></tr></thead>
        <tbody>${nodes.map(f => html`<${NodeRow} key=${f.node} f=${f} name=${f.node} />`)}</tbody>
        ${nodes.length > 1 && html`<tfoot><${NodeRow} f=${total} name="total" /></tfoot>`}
      </table></div>
      <div class="scroll"><table class="closes">
        <caption>Closes by code, since start</caption>
        <thead><tr><th>code</th><th>meaning</th><th>closes</th></tr></thead>
        <tbody>${closes.length === 0
          ? html`<tr><td colspan="3">none yet</td></tr>`
          : closes.map(([code, n]) => html`<tr key=${code} data-close=${code}><td>${code}</td><td>${closeName(code)}</td><td>${count(n)}</td></tr>`)}</tbody>
      </table></div>
    </div>
  </section>`
}
