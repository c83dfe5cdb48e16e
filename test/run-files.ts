/**
 * The compiled test files run by `node:test`'s `run()`, in the order given
 * (`node --test` sorts its files by name), `GATE_TEST_CONCURRENCY` at a time,
 * with the spec reporter. test/run.ts starts this, compiled, with plain
 * `node`: test files started from a process with tsx's hooks would inherit them.
 *
 *   node .test-js/test/run-files.js <file.js> ...
 */
import { run } from 'node:test'
import { spec as Spec } from 'node:test/reporters'

const concurrency = Number(process.env.GATE_TEST_CONCURRENCY ?? '4')
// A file whose tests are done exits even if something it made still holds its
// event loop: after a failure (a server left listening) it would otherwise
// hang the whole run instead of reporting the failure.
const stream = run({ files: process.argv.slice(2), concurrency, forceExit: true })
stream.on('test:fail', (failure: { todo?: string | boolean }) => {
  if (failure.todo === undefined || failure.todo === false) process.exitCode = 1
})
stream.compose(new Spec()).pipe(process.stdout)
