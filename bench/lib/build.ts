/**
 * The measured processes run compiled JavaScript, as an app in production does:
 * the runner compiles the project once with `tsc` into .bench-tmp/build (tsx's
 * on-the-fly transform wraps every closure in a naming helper, which would tax
 * per-message closures). `BENCH_TSX=1` runs the TypeScript sources through tsx instead.
 */
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { log } from './log.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const outDir = '.bench-tmp/build'
let built = false

export const useTsx = process.env.BENCH_TSX === '1'

/** Compiles the project once per run (type errors are reported but do not stop it). */
export function build (): void {
  if (built || useTsx) return
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  log(`compiling with tsc into ${outDir} (BENCH_TSX=1 skips this)`)
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false', '--incremental', '--tsBuildInfoFile', `${outDir}/.tsbuildinfo`], { cwd: root, stdio: 'pipe' })
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '')
    log(`tsc reported errors (running what it emitted):\n${out.split('\n').slice(0, 10).join('\n')}`)
  }
  built = true
}

/** The file to run for a bench entry such as `servers/gate.ts`. */
export function entryFile (entry: string): string {
  if (useTsx) return fileURLToPath(new URL(`../${entry}`, import.meta.url))
  build()
  const file = `${root}${outDir}/bench/${entry.replace(/\.ts$/, '.js')}`
  if (!existsSync(file)) throw new Error(`${file} was not built`)
  return file
}
