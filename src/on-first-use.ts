import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * A CommonJS dependency loaded by the first call, not at import: a gate that
 * never uses the feature never loads it (docs/operations.md, "Optional parts
 * and what they cost"; test/optional-deps.test.ts). Synchronous, so no API of
 * the caller becomes async.
 */
export function onFirstUse<T> (name: string): () => T {
  let loaded: T | undefined
  return () => (loaded ??= require(name) as T)
}
