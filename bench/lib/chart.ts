/** A small SVG bar chart (grouped bars in panels), written by hand: no dependency. */

export interface Bar { series: string, value: number }
export interface Group { label: string, bars: Bar[] }
export interface Panel { title: string, unit: string, groups: Group[] }

const COLORS: Record<string, string> = { 'fastify-gate': '#2563eb', bare: '#6b7280', 'socket.io': '#ea580c', aedes: '#16a34a', mosquitto: '#9333ea' }
const PANEL_W = 420
const PANEL_H = 260
const TOP = 56
const BOTTOM = 40
const LEFT = 56

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function short (v: number): string {
  if (v === 0) return '0'
  if (v >= 1000) return `${+(v / 1000).toFixed(v >= 100_000 ? 0 : 1)}k`
  return v >= 10 ? String(Math.round(v)) : String(+v.toFixed(1))
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v`. */
function niceMax (v: number): number {
  const step = 10 ** Math.floor(Math.log10(v))
  return [1, 2, 2.5, 5, 10].map(f => f * step).find(n => n >= v) ?? v
}

function panel (p: Panel, x0: number): string {
  const max = niceMax(Math.max(1, ...p.groups.flatMap(g => g.bars.map(b => b.value)).filter(Number.isFinite)))
  const plotW = PANEL_W - LEFT - 16
  const plotH = PANEL_H - TOP - BOTTOM
  const groupW = plotW / Math.max(1, p.groups.length)
  const out = [`<text x="${x0 + PANEL_W / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<text x="${x0 + 8}" y="${TOP - 14}" font-size="11" fill="#555">${esc(p.unit)}</text>`]
  for (let i = 0; i <= 4; i++) {
    const y = TOP + plotH - (plotH * i) / 4
    out.push(`<line x1="${x0 + LEFT}" x2="${x0 + PANEL_W - 16}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${x0 + LEFT - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#555">${short((max * i) / 4)}</text>`)
  }
  p.groups.forEach((g, gi) => {
    const barW = Math.min(28, (groupW - 12) / Math.max(1, g.bars.length))
    const gx = x0 + LEFT + gi * groupW + (groupW - barW * g.bars.length) / 2
    g.bars.forEach((b, bi) => {
      if (!Number.isFinite(b.value)) return
      const h = (plotH * b.value) / max
      const x = gx + bi * barW
      out.push(`<rect x="${x.toFixed(1)}" y="${(TOP + plotH - h).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[b.series] ?? '#999'}"><title>${esc(`${b.series}: ${short(b.value)} ${p.unit}`)}</title></rect>`,
        `<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(TOP + plotH - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${short(b.value)}</text>`)
    })
    out.push(`<text x="${(x0 + LEFT + gi * groupW + groupW / 2).toFixed(1)}" y="${TOP + plotH + 18}" text-anchor="middle" font-size="12">${esc(g.label)}</text>`)
  })
  return out.join('\n')
}

/** Panels side by side, with a legend of the series and a caption line. */
export function barChart (panels: Panel[], caption: string): string {
  const width = PANEL_W * panels.length
  const height = PANEL_H + 36
  const legend = Object.entries(COLORS).map(([name, color], i) =>
    `<rect x="${16 + i * 130}" y="${PANEL_H + 4}" width="12" height="12" fill="${color}"/><text x="${32 + i * 130}" y="${PANEL_H + 14}" font-size="12">${esc(name === 'bare' ? 'bare ws / net' : name)}</text>`)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...panels.map((p, i) => panel(p, i * PANEL_W)),
    ...legend,
    `<text x="${width - 12}" y="${PANEL_H + 30}" text-anchor="end" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    ''
  ].join('\n')
}
