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
        // With one sample (or none) uPlot widens the time axis by 86,400 / ms units (about
        // 2.7 years with times in seconds) before asking: show the last minute instead.
        x: { time: true, range: (u, min, max) => lastMinute(u.data[0], min, max) },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }
      },
      axes: [{ space: 70, values: (_u, ticks) => ticks.map(clock) }, { size: 60, values: (_u, ticks) => ticks.map(v => series[0].format?.(v) ?? String(v)) }],
      // The time axis' span in seconds, for the page's tests (`data-x-span`).
      hooks: { setScale: [(u, key) => { if (key === 'x' && box.current !== null) box.current.dataset.xSpan = String(Math.round((u.scales.x.max ?? 0) - (u.scales.x.min ?? 0))) }] },
      series: [{}, ...series.map(s => ({ label: s.label, stroke: s.stroke, width: s.width ?? 2, ...(s.dash === undefined ? {} : { dash: s.dash }), value: (_u: uPlot, v: number | null) => v === null ? '—' : (s.format?.(v) ?? String(v)) }))]
    }
    plot.current = new uPlot(opts, data, box.current!)
    return () => { plot.current?.destroy(); plot.current = null }
  }, [])

  useEffect(() => { plot.current?.setData(data) }, [data])

  return html`<div class="chart" ref=${box}></div>`
}

/** The time axis' range: the data's, or the minute up to the one sample (or now) when there are fewer than two. */
export function lastMinute (times: ArrayLike<number> | undefined, min: number | null, max: number | null): uPlot.Range.MinMax {
  const n = times?.length ?? 0
  if (n >= 2 && min !== null && max !== null) return [min, max]
  const end = n === 1 ? times![0] : Date.now() / 1000
  return [end - 60, end + 1]
}

/** A time tick as the clock reads (`12:07:45`): one line, whatever minute or day boundary the axis crosses. */
function clock (unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map(n => String(n).padStart(2, '0')).join(':')
}
