/**
 * Builds into a staging directory beside `out`, then swaps it in with two renames,
 * so a process reading `out` meanwhile (a test file, a running gateway) never finds
 * it missing or half written, as it would if the build deleted `out` first.
 */
import { existsSync, renameSync, rmSync } from 'node:fs'

export async function buildInto (out: string, build: (staging: string) => Promise<void>): Promise<void> {
  const staging = `${out}.building-${process.pid}`
  const old = `${out}.old-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  try {
    await build(staging)
    if (existsSync(out)) renameSync(out, old)
    renameSync(staging, out)
  } finally {
    rmSync(staging, { recursive: true, force: true })
    rmSync(old, { recursive: true, force: true })
  }
}
