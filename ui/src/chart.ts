import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import { html } from './html.js'

export interface Series {
  label: string
  /** A CSS color class name's color, from style.css's palette. */
  stroke: string
  format?: (v: number) => string
  /** A dash pattern, so that two lines on the same values stay told apart. */
  dash?: number[]
  /** Line width in px (default 2). */
  width?: number
}

interface Props {
  title: string
  series: Series[]
  /** `[times (unix s), ...one array per series]`, as uPlot takes it. */
  data: uPlot.AlignedData
  width?: number
}

/** A small live line chart (uPlot), no wider than the window allows; the data is replaced on every render. */
export function Chart ({ title, series, data, width = 360 }: Props): ReturnType<typeof html> {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)

  useEffect(() => {
    const opts: uPlot.Options = {
      title,
      width: Math.max(200, Math.min(width, document.documentElement.clientWidth - 40)),
      height: 160,
      legend: { live: false },
      cursor: { show: false },
      scales: {
        // With one sample (or none) uPlot would spread the time axis over years: show the last minute instead.
        x: { time: true, range: (_u, min, max) => min === max || min === null || max === null ? [(max ?? Date.now() / 1000) - 60, (max ?? Date.now() / 1000) + 1] : [min, max] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }
      },
      axes: [{}, { size: 60, values: (_u, ticks) => ticks.map(v => series[0].format?.(v) ?? String(v)) }],
      series: [{}, ...series.map(s => ({ label: s.label, stroke: s.stroke, width: s.width ?? 2, ...(s.dash === undefined ? {} : { dash: s.dash }), value: (_u: uPlot, v: number | null) => v === null ? '—' : (s.format?.(v) ?? String(v)) }))]
    }
    plot.current = new uPlot(opts, data, box.current!)
    return () => { plot.current?.destroy(); plot.current = null }
  }, [])

  useEffect(() => { plot.current?.setData(data) }, [data])

  return html`<div class="chart" ref=${box}></div>`
}
