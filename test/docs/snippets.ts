/**
 * Docs as code: the fenced ```ts blocks of README.md and docs/*.md, and a
 * TypeScript program that compiles them as a user's app would (test/docs/snippets.test.ts).
 *
 * The consumer app is made the way a user makes one: `tsc --init` (its defaults:
 * strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax,
 * module nodenext) plus `"types": ["node"]`, which the README asks for; a
 * package.json with `"type": "module"`, and a `cjs/` folder whose package.json
 * is what `npm init -y` writes (CommonJS). `fastify-gate` and its subpaths
 * resolve to this repository's sources (`paths`), every other package to its
 * node_modules (a symlink), so no install and no build is needed.
 *
 * How a block is read (the markers are HTML comments right before the fence):
 * - a block with an `import` is a complete module; a block without one is a
 *   fragment, compiled after a prelude that declares `app` (a Fastify app),
 *   `gatePlugin` and `Type`;
 * - `<!-- ts-prelude ... -->` adds TypeScript before the block, for names a
 *   fragment takes as given (`declare function verify (token: string): string`);
 * - `<!-- snippet: commonjs -->` compiles the block in the CommonJS folder;
 * - a line that ends in `// does not compile...` must not compile: it gets a
 *   `@ts-expect-error`, so the claim is checked too.
 * A block that augments `fastify-gate` (`declare module`) gets a program of its
 * own, since augmentations are global; the rest share one.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export const repo = fileURLToPath(new URL('../../', import.meta.url))

export interface Snippet {
  /** The markdown file, relative to the repository. */
  file: string
  /** The line of the first line of code in that file (1-based). */
  line: number
  code: string
  prelude: string
  commonjs: boolean
}

/** The fragment prelude: what a snippet without imports takes as given. */
export const APP_PRELUDE = `import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import gatePlugin from 'fastify-gate'
const app = Fastify()
`

/** Every ```ts block of a markdown text, with its markers. */
export function snippetsOf (file: string, text: string): Snippet[] {
  const lines = text.split('\n')
  const snippets: Snippet[] = []
  let comments: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('<!--')) {
      let comment = line
      while (!comment.includes('-->') && i + 1 < lines.length) comment += '\n' + lines[++i]!
      comments.push(comment)
      continue
    }
    if (line.trim() === '') continue
    const fence = /^```(\w*)/.exec(line)
    if (fence === null) { comments = []; continue }
    const start = i + 1
    let end = start
    while (end < lines.length && !lines[end]!.startsWith('```')) end++
    if (fence[1] === 'ts') {
      const code = lines.slice(start, end).join('\n') + '\n'
      const given = comments.map(c => /^<!--\s*ts-prelude\n([\s\S]*?)-->/.exec(c)?.[1] ?? '').join('')
      const commonjs = comments.some(c => /<!--\s*snippet:\s*commonjs\s*-->/.test(c))
      const complete = commonjs || /^import\s/m.test(code)
      snippets.push({
        file,
        line: start + 1,
        code,
        prelude: (complete ? '' : APP_PRELUDE) + given,
        commonjs
      })
    }
    comments = []
    i = end
  }
  return snippets
}

/** README.md and docs/*.md, in that order. */
export function docSnippets (): Snippet[] {
  const files = ['README.md', ...readdirSync(join(repo, 'docs')).filter(f => f.endsWith('.md')).sort().map(f => `docs/${f}`)]
  return files.flatMap(file => snippetsOf(file, readFileSync(join(repo, file), 'utf8')))
}

/** The source a snippet compiles as: its prelude, then its code with expected errors marked. */
function sourceOf (snippet: Snippet): string {
  const code = snippet.code.split('\n').map(line => {
    const indent = /^\s*/.exec(line)![0]
    return /\/\/ does not compile/.test(line) ? `${indent}// @ts-expect-error (documented)\n${line}` : line
  }).join('\n')
  return snippet.prelude + code
}

/** Maps a line of a snippet's source back to the markdown file (prelude lines map to the fence). */
function docLine (snippet: Snippet, sourceLine: number): number {
  const preludeLines = snippet.prelude === '' ? 0 : snippet.prelude.split('\n').length - 1
  const codeLines = sourceOf(snippet).split('\n').slice(preludeLines, sourceLine + 1)
  const inserted = codeLines.filter(l => l.includes('// @ts-expect-error (documented)')).length
  const line = sourceLine - preludeLines - inserted
  return line < 0 ? snippet.line - 1 : snippet.line + line
}

export interface Failure { snippet: Snippet, message: string }

/** The consumer app a user would make, in a temporary folder; `dispose` removes it. */
export function consumerApp (): { dir: string, options: ts.CompilerOptions, dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gate-docs-'))
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-app', version: '1.0.0', type: 'module' }))
  mkdirSync(join(dir, 'cjs'))
  // What `npm init -y` writes (npm 10: no "type", so CommonJS).
  writeFileSync(join(dir, 'cjs', 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', main: 'index.js', license: 'ISC' }))
  // `tsc --init` (TypeScript 5.9), then the README's one addition.
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext',
      target: 'esnext',
      types: ['node'],
      sourceMap: true,
      declaration: true,
      declarationMap: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      strict: true,
      jsx: 'react-jsx',
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noUncheckedSideEffectImports: true,
      moduleDetection: 'force',
      skipLibCheck: true,
      noEmit: true,
      // Only for this test: the package is this repository's sources.
      paths: {
        'fastify-gate': [join(repo, 'plugins/gate.ts')],
        'fastify-gate/core': [join(repo, 'src/index.ts')],
        'fastify-gate/client': [join(repo, 'client/index.ts')],
        'fastify-gate/client/tcp': [join(repo, 'client/tcp.ts')],
        'fastify-gate/workers': [join(repo, 'src/workers/index.ts')]
      }
    }
  }
  const parsed = ts.parseJsonConfigFileContent(tsconfig, ts.sys, dir)
  return { dir, options: parsed.options, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Compiles snippets and returns what failed. One program for the snippets that
 * do not augment `fastify-gate`, one for each that does; parsed files are shared.
 */
export function compileSnippets (snippets: Snippet[]): Failure[] {
  const app = consumerApp()
  try {
    const files = new Map<string, Snippet>()
    snippets.forEach((snippet, n) => {
      const name = join(app.dir, snippet.commonjs ? 'cjs' : '', `snippet-${n}.ts`)
      writeFileSync(name, sourceOf(snippet))
      files.set(name, snippet)
    })
    const host = ts.createCompilerHost(app.options)
    const cache = new Map<string, ts.SourceFile | undefined>()
    const getSourceFile = host.getSourceFile.bind(host)
    host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
      const key = `${name}\0${JSON.stringify(languageVersion)}`
      if (!cache.has(key)) cache.set(key, getSourceFile(name, languageVersion, onError, shouldCreate))
      return cache.get(key)
    }
    const shared = [...files.keys()].filter(name => !/declare module/.test(files.get(name)!.code))
    const groups = [shared, ...[...files.keys()].filter(name => !shared.includes(name)).map(name => [name])]
    const failures: Failure[] = []
    for (const group of groups) {
      if (group.length === 0) continue
      const program = ts.createProgram(group, app.options, host)
      for (const name of group) {
        const sourceFile = program.getSourceFile(name)!
        const snippet = files.get(name)!
        const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]
        for (const d of diagnostics) {
          const { line } = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0 }
          failures.push({
            snippet,
            message: `${snippet.file}:${docLine(snippet, line)}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
          })
        }
      }
    }
    return failures
  } finally {
    app.dispose()
  }
}
