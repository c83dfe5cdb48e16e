/**
 * `npm test`'s first step: the repository's TypeScript compiled once, file by
 * file (esbuild, with tsx's options, with inline source maps back to the `.ts`
 * files), into `.test-js/`, a copy of the repository's tree in which every
 * other file is a symbolic link to the original.
 *
 * Why: every test file and every process a test starts pays tsx's module
 * hooks again (Node 20 runs them on a separate thread, a round trip per
 * module): 0.45 s of CPU for a test file, 0.55 s for a gateway process,
 * nearly 400 processes per run on 2 cores. Run from `.test-js/`, they load
 * plain JavaScript. Coverage still counts the `.ts` files, through the source
 * maps (c8 maps `.test-js/**.js` back to them).
 *
 * `node --test --import tsx test/x.test.ts` still runs any test straight from
 * the sources; `.test-js/` is rebuilt from scratch by each `npm test`, so it is
 * never stale there. Run it again by hand after editing: `npx tsx test/compile.ts`.
 */
import { build } from 'esbuild'
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const OUT = join(ROOT, '.test-js')

/** Not copied: installed or generated; those a process may need are linked as whole directories. */
const SKIP = new Set(['.git', '.test-js', 'coverage', '.bench-tmp', 'node_modules', 'dist'])
const LINKED_DIRS = ['node_modules', 'dist']

function walk (dir: string, entries: string[]): void {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir === '' ? e.name : join(dir, e.name)
    if (e.isDirectory()) {
      if (dir === '' && SKIP.has(e.name)) continue
      mkdirSync(join(OUT, path), { recursive: true })
      walk(path, entries)
    } else {
      symlinkSync(join(ROOT, path), join(OUT, path))
      if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) entries.push(join(ROOT, path))
    }
  }
}

const MAP = '//# sourceMappingURL=data:application/json;base64,'

/**
 * The inline source map names its source by its base name, as tsx's do: right
 * both for the compiled file (beside it, `x.ts` is the link to the original)
 * and once test/coverage.ts has given the file's coverage the original's path.
 */
function besideItsSource (code: string, out: string): string {
  const at = code.lastIndexOf(MAP)
  if (at === -1) return code
  const map = JSON.parse(Buffer.from(code.slice(at + MAP.length).trim(), 'base64').toString())
  map.sources = [basename(out).replace(/\.js$/, '.ts')]
  return code.slice(0, at) + MAP + Buffer.from(JSON.stringify(map)).toString('base64') + '\n'
}

export async function compile (): Promise<number> {
  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT)
  for (const dir of LINKED_DIRS) {
    mkdirSync(join(ROOT, dir), { recursive: true })
    symlinkSync(join(ROOT, dir), join(OUT, dir), 'dir')
  }
  const entries: string[] = []
  walk('', entries)
  const result = await build({
    entryPoints: entries,
    outdir: OUT,
    outbase: ROOT,
    bundle: false,
    format: 'esm',
    platform: 'node',
    // As tsx compiles (its esbuild options), so that a file behaves, and is covered, the same either way.
    target: `node${process.versions.node}`,
    minifyWhitespace: true,
    keepNames: true,
    sourcemap: 'inline',
    sourcesContent: false,
    write: false,
    logLevel: 'error'
  })
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true })
    writeFileSync(file.path, besideItsSource(file.text, file.path))
  }
  return entries.length
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now()
  const n = await compile()
  process.stdout.write(`test/compile.ts: ${n} TypeScript files compiled into ${relative(process.cwd(), OUT) || '.'} in ${Date.now() - started} ms\n`)
}
