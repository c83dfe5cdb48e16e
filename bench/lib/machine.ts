/** Where the figures come from: machine, Node, commit. */
import { execFileSync } from 'node:child_process'
import os from 'node:os'

export interface Machine {
  date: string
  cores: number
  cpu: string
  ramGiB: number
  node: string
  os: string
  commit: string
}

function git (...args: string[]): string {
  try {
    return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
  } catch {
    return ''
  }
}

export function machine (): Machine {
  const dirty = git('status', '--porcelain', '--', 'src', 'plugins', 'routes', 'examples') !== ''
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit: (git('rev-parse', '--short', 'HEAD') || 'unknown') + (dirty ? ' (with uncommitted changes)' : '')
  }
}

export function describe (m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.os}, commit ${m.commit}`
}
