/**
 * Gives the coverage of a file compiled into `.test-js/` (test/compile.ts) the
 * path of its TypeScript original, in the raw V8 coverage files, before c8
 * reads them. c8 then sees what it sees when tsx runs the original: the `.ts`
 * path, with the source map Node recorded for it (whose source is the file's
 * base name), so `all` does not count a loaded file as unloaded and the
 * figures are the same whichever way a process ran.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export function remapCoverage (root: string, tmp: string): number {
  const compiled = pathToFileURL(join(root, '.test-js')).href + '/'
  const pattern = new RegExp(`${compiled.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}([^"]+?)\\.js"`, 'g')
  const original = new Map<string, boolean>()
  let files = 0
  for (const name of readdirSync(tmp)) {
    if (!name.endsWith('.json')) continue
    const path = join(tmp, name)
    const text = readFileSync(path, 'utf8')
    if (!text.includes(compiled)) continue
    writeFileSync(path, text.replace(pattern, (whole: string, rel: string) => {
      let has = original.get(rel)
      if (has === undefined) original.set(rel, has = existsSync(join(root, `${rel}.ts`)))
      return has ? `${pathToFileURL(join(root, rel)).href}.ts"` : whole
    }))
    files++
  }
  return files
}
