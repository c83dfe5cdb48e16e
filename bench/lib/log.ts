/** Progress output: `log` for steps, `note` for the lines a running step sends. */
const start = Date.now()

function stamp (): string {
  const s = Math.round((Date.now() - start) / 1000)
  return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`
}

export function log (line: string): void {
  process.stdout.write(`${stamp()} ${line}\n`)
}

export function note (line: string): void {
  process.stdout.write(`${stamp()}     ${line}\n`)
}
