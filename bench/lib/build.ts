/**
 * The measured processes run compiled JavaScript, as an app in production does:
 * the runner compiles the project once with `tsc` into .bench-tmp/build (tsx's
 * on-the-fly transform wraps every closure in a naming helper, which would tax
 * per-message closures). `BENCH_TSX=1` runs the TypeScript sources through tsx instead.
 *
 * `BENCH_BEFORE=<another checkout>` compiles that tree too, for before/after
 * comparisons of the gate in one run (see contenders.ts).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { log } from './log.js'

const here = fileURLToPath(new URL('../../', import.meta.url))
const outDir = '.bench-tmp/build'
const built = new Set<string>()

export const useTsx = process.env.BENCH_TSX === '1'

/** Compiles the project at `root` once per run (type errors are reported but do not stop it). */
export function build (root = here): void {
  if (built.has(root) || useTsx) return
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  log(`compiling ${root === here ? 'the project' : root} with tsc into ${outDir} (BENCH_TSX=1 skips this)`)
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false', '--incremental', '--tsBuildInfoFile', `${outDir}/.tsbuildinfo`], { cwd: root, stdio: 'pipe' })
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '')
    log(`tsc reported errors (running what it emitted):\n${out.split('\n').slice(0, 10).join('\n')}`)
  }
  // Files the compiled example app reads beside its code that tsc does not emit: the dashboard and
  // the client bundle (built by `npm run build:ui` into dist/ui and dist/browser) and the demo page.
  for (const dir of ['dist/ui', 'dist/browser', 'examples/chat/demo']) {
    const built = path.join(root, dir)
    const link = path.join(root, outDir, dir)
    if (existsSync(built) && !existsSync(link)) {
      mkdirSync(path.dirname(link), { recursive: true })
      symlinkSync(built, link, 'dir')
    }
  }
  built.add(root)
}

/** The file to run for a bench entry such as `servers/gate.ts`, from this project or from `root`. */
export function entryFile (entry: string, root = here): string {
  if (useTsx && root === here) return fileURLToPath(new URL(`../${entry}`, import.meta.url))
  build(root)
  const file = path.join(root, outDir, 'bench', entry.replace(/\.ts$/, '.js'))
  if (!existsSync(file)) throw new Error(`${file} was not built`)
  return file
}
