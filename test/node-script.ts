/**
 * How a test runs one of the repository's TypeScript files as a process of its
 * own. Under `npm test` the tests run from `.test-js/` (test/compile.ts), where
 * every `.ts` file has its compiled `.js` beside it: the process runs that, as
 * plain JavaScript, without tsx's module hooks (0.5 s of CPU per process saved).
 * A test run straight from the sources (`node --test --import tsx ...`) starts
 * it through tsx.
 */
import { sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const COMPILED = fileURLToPath(new URL('.', import.meta.url)).includes(`${sep}.test-js${sep}`)

/** Node's arguments that let a child process load the repository's modules: none compiled, tsx's hooks else. */
export const loaderArgs: readonly string[] = COMPILED ? [] : ['--import', 'tsx']

/** Node's arguments for `script` (a `.ts` path): `[script.js]` compiled, else `['--import', 'tsx', script]`. */
export function nodeArgs (script: string): string[] {
  return COMPILED ? [script.replace(/\.ts$/, '.js')] : [...loaderArgs, script]
}

/** The extension a child process's own `import` of a repository module takes: `.js` compiled, else `.ts`. */
export const moduleExt = COMPILED ? '.js' : '.ts'
