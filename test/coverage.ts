/**
 * Prepares the raw V8 coverage of a test run (test/run.ts) for c8, so that
 * its figures are those of the TypeScript originals whichever way a process
 * loaded them:
 *
 * - a file compiled into `.test-js/` (test/compile.ts) gets its original's
 *   URL (`<root>/<rel>.ts`: c8 keeps or drops a script by its URL, against
 *   `.c8rc.json`'s `include`), and the source its inline map names (Node
 *   resolved it to `.test-js/<rel>.ts`) becomes the original too;
 * - a `.ts` file that tsx transformed (`npm start` runs the example so) gets
 *   the same URL when tsx's code is the compiled code (tsx and test/compile.ts
 *   run esbuild with the same options), and is left out when it is not: c8
 *   adds up the counts of one URL across processes by byte offset, and tsx
 *   appends an interop to every dynamic `import()` (plugins/gate.ts and
 *   examples/chat/server.ts), which moves the offsets. What only `npm start`
 *   processes run of those two files is then not counted.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface RawCoverage {
  result: Array<{ url: string }>
  'source-map-cache'?: Record<string, { lineLengths?: number[], data?: { sources?: string[] } }>
}

/** The lengths of a compiled file's lines before its source map comment. */
function codeLines (compiledPath: string): number[] | undefined {
  if (!existsSync(compiledPath)) return undefined
  const lines = readFileSync(compiledPath, 'utf8').split(/\r\n|[\n\r\u2028\u2029]/)
  const map = lines.findIndex(line => line.startsWith('//# sourceMappingURL='))
  return (map === -1 ? lines : lines.slice(0, map)).map(line => line.length)
}

export function remapCoverage (root: string, tmp: string): { files: number, leftOut: number, unreadable: number } {
  const rootUrl = pathToFileURL(root).href.replace(/\/?$/, '/')
  const compiledUrl = `${rootUrl}.test-js/`
  const originals = new Map<string, boolean>()
  const compiledLines = new Map<string, number[] | undefined>()
  /** The repository-relative `.ts` path of a script or source URL, or undefined when it is none of the repository's TypeScript files. */
  const relOf = (url: string): string | undefined => {
    if (!url.startsWith(rootUrl) || url.includes('/node_modules/')) return undefined
    const rel = url.startsWith(compiledUrl) ? url.slice(compiledUrl.length) : url.slice(rootUrl.length)
    const ts = rel.endsWith('.js') ? `${rel.slice(0, -3)}.ts` : rel
    if (!ts.endsWith('.ts')) return undefined
    let has = originals.get(ts)
    if (has === undefined) originals.set(ts, has = existsSync(fileURLToPath(rootUrl + ts)))
    return has ? ts : undefined
  }
  /** Whether tsx's code for `rel` (its line lengths, as Node recorded them) is test/compile.ts's. */
  const sameCode = (rel: string, lineLengths: number[] | undefined): boolean => {
    if (!compiledLines.has(rel)) compiledLines.set(rel, codeLines(join(root, '.test-js', `${rel.slice(0, -3)}.js`)))
    const compiled = compiledLines.get(rel)
    return compiled !== undefined && lineLengths !== undefined && compiled.every((length, i) => lineLengths[i] === length)
  }
  let files = 0
  let leftOut = 0
  let unreadable = 0
  for (const name of readdirSync(tmp)) {
    if (!name.endsWith('.json')) continue
    const path = join(tmp, name)
    let raw: RawCoverage
    try {
      raw = JSON.parse(readFileSync(path, 'utf8')) as RawCoverage
    } catch {
      // Cut short: its process was killed (SIGKILL) while Node wrote it. c8 skips it too.
      unreadable++
      continue
    }
    const maps = raw['source-map-cache'] ?? {}
    const renamed: NonNullable<RawCoverage['source-map-cache']> = {}
    raw.result = raw.result.filter(script => {
      const rel = relOf(script.url)
      if (rel === undefined) return true
      const map = maps[script.url]
      if (!script.url.endsWith('.js') && !sameCode(rel, map?.lineLengths)) {
        leftOut++
        return false
      }
      if (map !== undefined) {
        const sources = map.data?.sources
        if (sources !== undefined) map.data!.sources = sources.map(s => { const r = relOf(s); return r === undefined ? s : rootUrl + r })
        renamed[rootUrl + rel] = map
        delete maps[script.url]
      }
      script.url = rootUrl + rel
      return true
    })
    raw['source-map-cache'] = { ...maps, ...renamed }
    writeFileSync(path, JSON.stringify(raw))
    files++
  }
  return { files, leftOut, unreadable }
}
